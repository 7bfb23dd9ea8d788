"""`nurture migrate`: wait for the database, bring its schema to the newest revision, and leave.

The one-shot step before workers and API processes start (compose's `migrate` service, Kubernetes' migrate Job):
they then find the schema current and never race each other to create it.
"""

from __future__ import annotations

import typer

from nurture.cli import app
from nurture.cli.common import console, run_and_exit, settings_for_cli
from nurture.config import Settings
from nurture.startup import DEFAULT_TIMEOUT_SECONDS, wait_for_database


@app.command("migrate")
def migrate(
    wait_seconds: float = typer.Option(DEFAULT_TIMEOUT_SECONDS, help="How long to wait for the database to answer"),
) -> None:
    """Migrate the database to the newest schema, waiting for it to come up first."""
    run_and_exit(_migrate(settings_for_cli(), wait_seconds))


async def _migrate(settings: Settings, wait_seconds: float) -> int:
    engine = await wait_for_database(settings, timeout_seconds=wait_seconds)
    engine.dispose()
    console.print("database schema is current")
    return 0
