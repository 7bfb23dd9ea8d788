"""A lead's life in the database: stage moves (one writer), fit and readiness, routing, ranked leads, imports.

Doors, the CLI and activities all import from here; nothing here imports `nurture.inbound` except `imports`,
which doors and the CLI use (it queues journey signals through the transactional outbox).
"""
