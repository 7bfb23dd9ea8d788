"""`nurture` commands: dev (filled in by its issue)."""
