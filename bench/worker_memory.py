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

from bench.broadcast_fanout import Bench, environment, log, worker_processes
from definitions import load_definitions
from nurture.db.engine import make_engine


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


async def run(args: argparse.Namespace) -> None:
    load_definitions()  # an entry point: enrolment checks journey keys
    steps = [int(s) for s in args.steps.split(",")]
    args.n, args.batch_n = steps[-1], 0
    with environment(args) as (settings, home, server):
        engine = make_engine(settings.effective_database_url)
        client = await server.client()
        bench = Bench(args, settings, engine, client)
        with worker_processes(settings, 1, args.cache, home) as (worker,):
            ids = bench.add_contacts()
            await asyncio.sleep(3)
            baseline = rss_kb(worker.pid)
            print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; cache bound {args.cache}")
            print(f"worker RSS with no journeys: {baseline / 1024:7.1f} MB")
            done, previous = 0, baseline
            for step in steps:
                started = time.monotonic()
                await bench.start_journeys(ids[done:step])
                await asyncio.sleep(2)  # the last workflow tasks settle into the cache
                rss = rss_kb(worker.pid)
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
