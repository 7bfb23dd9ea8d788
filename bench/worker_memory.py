"""Worker memory: the RSS of one journey worker as sleeping journeys grow, with its workflow cache bounded.

What it measures
    One `nurture` journey worker process (the same entry as `bench.broadcast_fanout --worker`) with
    `--cache` cached workflows, on a dev server from the shipped binary. Journeys (b2b_drip) are started in
    steps (`--steps 1000,5000,20000`); after each step, once every journey has sent its first drop and sleeps in
    its two-week wait, the worker's RSS is read from /proc. While the journeys fit in the cache, the RSS growth per
    journey is what a cached journey costs; past the cache bound, evicted journeys should cost nothing (flat RSS).

Run: `.venv/bin/python -m bench.worker_memory [--steps 1000,2000,5000] [--cache 1000]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

from bench.broadcast_fanout import JOURNEY, Bench, environment, log, worker_processes
from definitions import load_definitions
from nurture.broadcasts.audience import Audience
from nurture.broadcasts.audience import count as count_audience
from nurture.context import open_engine
from nurture.journey_client import enroll


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


async def start(bench: Bench, contact_ids: list[int]) -> None:
    """Enroll, then wait until every journey is visible and its first workflow task has run (it then sleeps:
    in its wait after the first drop, or until quiet time ends)."""
    slots = asyncio.Semaphore(64)

    async def one(cid: int) -> None:
        async with slots:
            await enroll(bench.client, bench.engine, bench.settings, cid, JOURNEY, time_scale=2.0)

    await asyncio.gather(*(one(cid) for cid in contact_ids))
    query = Audience(journeys=[JOURNEY]).to_query()
    total = contact_ids[-1] - int(bench.args.first_id) + 1
    await bench.until_async(lambda: _at_least(bench, query, total), "every journey to be visible", 1800)


async def settled_rss(pid: int) -> int:
    """RSS once the worker has caught up (two reads 3 s apart within 1%)."""
    before = rss_kb(pid)
    while True:
        await asyncio.sleep(3)
        now = rss_kb(pid)
        if abs(now - before) <= before / 100:
            return now
        before = now


async def _at_least(bench: Bench, query: str, n: int) -> bool:
    return await count_audience(bench.client, query) >= n


async def run(args: argparse.Namespace) -> None:
    load_definitions()  # an entry point: enrolment checks journey keys
    steps = [int(s) for s in args.steps.split(",")]
    args.n, args.batch_n = steps[-1], 0
    with environment(args) as (settings, home, server):
        engine = open_engine(settings)
        client = await server.client()
        bench = Bench(args, settings, engine, client)
        with worker_processes(settings, 1, args.cache, home) as (worker,):
            ids = bench.add_contacts()
            args.first_id = ids[0]
            await asyncio.sleep(3)
            baseline = rss_kb(worker.pid)
            print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; cache bound {args.cache}")
            print(f"worker RSS with no journeys: {baseline / 1024:7.1f} MB")
            done, previous = 0, baseline
            for step in steps:
                started = time.monotonic()
                await start(bench, ids[done:step])
                rss = await settled_rss(worker.pid)
                cached = min(step, args.cache)
                per = (rss - baseline) / cached if cached else 0.0
                grew = (rss - previous) / max(1, step - done)
                print(
                    f"{step:6d} sleeping journeys ({cached} cached): RSS {rss / 1024:7.1f} MB, "
                    f"{per:6.1f} KB per cached journey over the idle worker, {grew:6.1f} KB per journey this step "
                    f"({time.monotonic() - started:.0f} s; load {os.getloadavg()[0]:.2f})",
                    flush=True,
                )
                done, previous = step, rss
    log("done")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--steps", default="1000,2000,5000", help="cumulative journey counts (default 1000,2000,5000)")
    parser.add_argument("--cache", type=int, default=1000, help="the worker's max_cached_workflows")
    parser.add_argument("--database-url", default=None)
    asyncio.run(run(parser.parse_args()))
    sys.stdout.flush()
    os._exit(0)  # the Temporal client can crash at interpreter exit (sdk-python #300)


if __name__ == "__main__":
    main()
