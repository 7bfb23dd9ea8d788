"""Shared fixtures live in tests/fixtures/ (one module per real part), loaded as plugins here.

Tests run like an entry point: the journey definitions are loaded once, explicitly."""

from definitions import load_definitions

load_definitions()

pytest_plugins = [
    "tests.fixtures.db",
    "tests.fixtures.temporal",
    "tests.fixtures.sendgrid",
    "tests.fixtures.api",
    "tests.fixtures.measurement",
    "tests.fixtures.passwords",
]
