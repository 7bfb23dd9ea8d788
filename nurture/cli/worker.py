"""`nurture worker`: a worker process for every journey and broadcast workflow and every activity."""

from __future__ import annotations

from nurture.cli import app
from nurture.cli.common import run_and_exit, settings_for_cli
from nurture.config import Settings


@app.command()
def worker() -> None:
    """Run a worker: every journey and broadcast workflow and every activity."""
    run_and_exit(_run(settings_for_cli()))


async def _run(settings: Settings) -> int:
    from workers.journey_worker import run_worker

    await run_worker(settings)
    return 0
