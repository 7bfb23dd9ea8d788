"""nurture: lead-nurturing journeys as durable Temporal workflows.

Shared plumbing lives here: configuration, ids, logging, database models and queries, the CLI and the HTTP
service. Journeys live in `definitions/`, their machinery in `workflows/`, side effects in `activities/`.
"""
