"""Real HTTP fakes of the services nurture talks to, for tests and `nurture dev` (never for production)."""
