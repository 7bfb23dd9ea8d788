"""`nurture worker`: a worker process for every journey and broadcast workflow and every activity.

It starts like `python -m workers.journey_worker` (`workers.journey_worker.run_worker`, through
`nurture.startup.start_process`): the same refusals, waits, metrics and liveness file. Ctrl-C or SIGTERM (a
deploy) shuts the worker down within seconds; what it was doing is retried by the next one.
"""

from __future__ import annotations

from nurture.cli import app
from nurture.cli.common import run_and_exit, settings_for_cli
from nurture.cli.stopping import StopSignals
from nurture.config import Settings


@app.command()
def worker() -> None:
    """Run a worker: every journey and broadcast workflow and every activity."""
    run_and_exit(_run(settings_for_cli()))


async def _run(settings: Settings) -> int:
    from workers.journey_worker import run_worker

    stop = StopSignals()
    with stop.installed():
        await run_worker(settings, stop.requested)
    return stop.exit_code
