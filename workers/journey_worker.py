"""The nurture worker: journey and broadcast workflows plus every activity, on one task queue."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities import build_activities
from definitions import load_definitions
from nurture.config import Settings, UnsafeSettingsError
from nurture.logging import configure_logging, get_logger
from nurture.startup import TemporalWait, start_process
from nurture.worker_metrics import install as install_worker_metrics
from workflows.registry import WORKFLOWS

log = get_logger(__name__)

# Pure modules shared with the sandbox instead of re-imported per workflow run (fast, and the journey
# registry is built once). Heavy libraries are passed through so an accidental import does not cost seconds.
# `workflows` whole, the workflow modules too: a module the sandbox imports is imported again for every run
# and kept while the run is cached (its code objects, the workflow class and its handler definitions: about
# half of what a cached journey cost, bench/worker_memory.py). Determinism is held by the replay tests
# (tests/workflows/test_replay_saved_histories.py), tests/test_workflow_code_is_deterministic.py and
# tests/test_imports_point_down.py, and by `workflow.now()`/`workflow.random()` in the code.
PASSTHROUGH = (
    "definitions",
    "workflows",
    "nurture",
    "sqlmodel",
    "sqlalchemy",
    "pydantic",
    "structlog",
)


STICKY_TIMEOUT = timedelta(seconds=3)


def sandbox_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH))


def build_worker(
    client: Client,
    settings: Settings,
    engine: Engine,
    *,
    activities: Sequence[Callable[..., Any]] | None = None,
    task_queue: str | None = None,
    max_concurrent_activities: int = 64,
) -> Worker:
    """A Worker for every nurture workflow and activity. Tests pass fake `activities` under the real names.

    Loads the journey definitions first: the worker runs the journeys defined when it starts (restart it after
    adding or changing one)."""
    load_definitions()
    acts = list(activities) if activities is not None else build_activities(settings, engine)
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=list(WORKFLOWS),
        activities=acts,
        activity_executor=ThreadPoolExecutor(max_workers=max_concurrent_activities),
        max_concurrent_activities=max_concurrent_activities,
        workflow_runner=sandbox_runner(),
        max_cached_workflows=settings.worker_max_cached_workflows,
        # a task for a journey cached on a worker that died goes to another worker after this, not 10 s
        sticky_queue_schedule_to_start_timeout=STICKY_TIMEOUT,
    )


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Start through `nurture.startup.start_process` (unsafe settings refused, then the database and Temporal
    awaited with a message), then run until `stop` is set (a signal) or the worker fails."""
    started = await start_process(
        settings,
        TemporalWait.WAIT,
        before_connect=lambda: install_worker_metrics(settings.worker_metrics_address),  # the runtime reports
    )
    try:
        worker = build_worker(started.client, settings, started.engine)
        log.info("worker.started", task_queue=settings.task_queue, temporal=settings.effective_temporal_address)
        beat = asyncio.create_task(_liveness(settings.home / LIVENESS_FILE))
        try:
            await _run_until(worker, stop or asyncio.Event())
        finally:
            beat.cancel()
    finally:
        started.engine.dispose()


STOP_SECONDS = 5.0


async def _run_until(worker: Worker, stop: asyncio.Event) -> None:
    """Run; on `stop`, shut down within STOP_SECONDS (what was running is retried by another worker)."""
    running = asyncio.create_task(worker.run())
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait([running, stopped], return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if running.done():
        running.result()  # a worker that failed says why
        return
    try:
        await asyncio.wait_for(worker.shutdown(), STOP_SECONDS)
    except TimeoutError:
        log.warning("worker.shutdown_slow", seconds=STOP_SECONDS)
    running.cancel()


LIVENESS_FILE = "worker.alive"  # touched every few seconds while the worker runs: the container healthcheck


async def _liveness(path: Path, every_seconds: float = 10.0) -> None:
    await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
    while True:
        await asyncio.to_thread(path.touch)
        await asyncio.sleep(every_seconds)


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    try:
        asyncio.run(run_worker(settings))
    except UnsafeSettingsError as err:
        sys.exit(f"nurture worker: {err}")  # a clear message and exit status 1, not a traceback


if __name__ == "__main__":
    main()
