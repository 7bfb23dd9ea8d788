"""`nurture` commands: journeys (filled in by its issue)."""
