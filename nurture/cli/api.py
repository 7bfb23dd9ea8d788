"""`nurture` commands: api (filled in by its issue)."""
