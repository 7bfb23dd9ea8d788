"""Every side effect: email, database, scoring, CRM handoff. Classes with injected clients; idempotent."""
