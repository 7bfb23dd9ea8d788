"""`nurture worker`: a worker process for every journey and broadcast workflow and every activity.

Ctrl-C or SIGTERM (a deploy) shuts the worker down within seconds; what it was doing is retried by the next one.
"""

from __future__ import annotations

import asyncio

from nurture.cli import app
from nurture.cli.common import run_and_exit, settings_for_cli
from nurture.cli.stopping import StopSignals, bounded
from nurture.config import Settings
from nurture.context import app_context
from nurture.logging import get_logger

log = get_logger(__name__)
STOP_SECONDS = 5.0


@app.command()
def worker() -> None:
    """Run a worker: every journey and broadcast workflow and every activity."""
    run_and_exit(_run(settings_for_cli()))


async def _run(settings: Settings) -> int:
    from workers.journey_worker import build_worker

    settings.refuse_unsafe()  # the default tracking secret, or a SendGrid key without its webhook key
    stop = StopSignals()
    with stop.installed():
        async with app_context(settings) as ctx:
            worker = build_worker(ctx.client, settings, ctx.engine)
            log.info("worker.started", task_queue=settings.task_queue, temporal=settings.effective_temporal_address)
            running = asyncio.create_task(worker.run())
            stopped = asyncio.create_task(stop.requested.wait())
            await asyncio.wait([running, stopped], return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            if running.done():
                running.result()  # a worker that failed says why
            await bounded("worker", asyncio.ensure_future(worker.shutdown()), STOP_SECONDS)
            running.cancel()
    return stop.exit_code
