"""Shared fixtures live in tests/fixtures/ (one module per real part), loaded as plugins here."""

pytest_plugins = [
    "tests.fixtures.db",
    "tests.fixtures.temporal",
    "tests.fixtures.sendgrid",
    "tests.fixtures.api",
]
