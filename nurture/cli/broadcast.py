"""`nurture` commands: broadcast (filled in by its issue)."""
