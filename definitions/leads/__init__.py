"""A lead's whole life as reviewable rules: lifecycle stages, fit grading, readiness (MQL) and routing. Pure."""
