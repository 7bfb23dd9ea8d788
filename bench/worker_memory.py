"""Worker memory: what a cached journey costs a worker, and that evicted journeys cost nothing.

What it measures
    One `nurture` journey worker process (`bench.fleet`'s, as `bench.broadcast_fanout` runs: the product's
    workflows, activities and sandbox) with `--cache` cached workflows, on a dev server from the shipped binary.
    Journeys (b2b_drip) are started concurrently through the client (`enroll`, `--concurrency` at once); a step
    is done when every journey has sent its first drop and sleeps in its two-week wait. The worker's RSS is read
    from /proc once it has settled.

    1. Warm-up: `--warmup` journeys, so the RSS baseline includes the worker's one-off start-up (imports, the
       first runs, thread pools). Everything after it is per run.
    2. The floor: `--floor` runs of `bench.memory_floor` (a hand-written workflow with a journey's first steps:
       one activity, then a two-week sleep), all cached, in a twin worker process (the same entry, cache and
       settings on a task queue of its own, warmed up by a few floor runs first): what the SDK itself holds per
       cached run, in this run. In the journeys' own worker its runs would hold cache slots that later journeys
       take over, and each swap would show up past the bound as growth.
    3. Marginal cost: the first step (all cached): (RSS - warm RSS) / journeys added. That is what one cached
       journey holds, read against the floor, and it sizes the default cache
       (`Settings.worker_max_cached_workflows`, docs/scale.md) together with the step below: the cache that
       fits `--budget-mb` over the warm worker once the cache has turned over (RSS at the last step less the
       warm worker, per slot, when the last step is at least twice the cache). The bench's default cache
       (warm-up + first step) is full of journeys at the first step.
    4. Flatness: the later steps (`--steps`, default up to 20,000) go past the cache bound; the RSS ratio to the
       first step and the growth per journey past the bound show that evicted journeys cost nothing.
    5. Where the memory is, at each step (`bench.heap_report`, from inside the worker): Python's live small
       objects, the C heap in use (the SDK core's Rust state and Python's larger objects) and the C heap glibc
       holds free, as read and again right after a full garbage collection the bench asks for. Garbage waiting
       for the collector is the difference between the two; a free part that grows while the in-use part stays
       flat is the allocator's fragmentation, not a leak.

Ratios only are meant to be compared between runs; the absolute figures depend on the machine's allocator.

Run: `.venv/bin/python -m bench.worker_memory [--steps 1000,5000,10000,20000] [--cache 1200] [--floor 1000]`
(about 36 minutes for 20,000 journeys on 2 shared cores at load 5-11, December 2026; `--steps 1000,5000` for a
quick look, about 10 minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from temporalio.client import Client

from bench import heap_report as heap
from bench.fleet import JOURNEY, add_journey_contacts, environment, log, until, worker_processes
from bench.memory_floor import start_memory_floor
from definitions import load_definitions
from nurture.config import Settings
from nurture.context import open_engine
from nurture.db import Touch
from nurture.journey_client import enroll

TARGET_KB = 50  # issue 12 item 7
FLOOR_WARMUP = 50  # floor runs in the warm-up: the floor's own first runs are start-up, not per run
FLOOR_IDS = 10_000_000  # the floor's ids (its activity writes nothing: no contact rows needed)


def rss_kb(pid: int) -> int:
    return heap.proc_status(pid, "VmRSS")


def threads(pid: int) -> int:
    return heap.proc_status(pid, "Threads")


@dataclass(frozen=True)
class Bench:
    settings: Settings
    engine: Engine
    client: Client


async def start(bench: Bench, contact_ids: list[int], concurrency: int, want: int) -> float:
    """Enroll concurrently, then wait until every journey (`want` in all so far) has sent its first drop (it then
    sleeps). Seconds."""
    started = time.monotonic()
    slots = asyncio.Semaphore(concurrency)

    async def one(cid: int) -> None:
        async with slots:
            await enroll(bench.client, bench.engine, bench.settings, cid, JOURNEY, time_scale=2.0)

    await asyncio.gather(*(one(cid) for cid in contact_ids))
    await until(lambda: _touches(bench) >= want, "every journey's first drop", timeout=900)
    return time.monotonic() - started


def _touches(bench: Bench) -> int:
    with bench.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Touch)).scalar_one())


async def settled_rss(pid: int) -> int:
    """RSS once the worker has caught up (two reads 3 s apart within 0.5%)."""
    before = rss_kb(pid)
    while True:
        await asyncio.sleep(3)
        now = rss_kb(pid)
        if abs(now - before) <= before / 200:
            return now
        before = now


async def fresh_report(path: Path) -> dict[str, int]:
    """The worker's heap report written after this call (bench.heap_report), so it belongs to the RSS just read."""
    await asyncio.sleep(heap.REPORT_SECONDS * 1.5)
    return heap.last_report(path)


def mb(kb: float) -> str:
    return f"{kb / 1024:7.1f} MB"


async def run(args: argparse.Namespace) -> None:
    load_definitions()  # an entry point: enrolment checks journey keys
    steps = [int(s) for s in args.steps.split(",")]
    if steps[0] + args.warmup > args.cache or args.floor + FLOOR_WARMUP > args.cache:
        raise SystemExit("the warm-up with the first step, and the floor, must fit in the cache (cached runs)")
    floor_ids = iter(range(FLOOR_IDS, FLOOR_IDS + args.floor + FLOOR_WARMUP))
    if args.collect_every:
        os.environ[heap.COLLECT_ENV] = str(args.collect_every)  # the workers inherit it
    with environment(args.database_url) as (settings, home, server):
        engine = open_engine(settings)
        client = await server.client()
        bench = Bench(settings, engine, client)
        # The floor runs in a twin worker process of its own (same code, cache and settings, its own task queue):
        # in the journeys' worker its runs would hold cache slots that later journeys take over, and each such
        # swap adds a journey's cost less a floor run's to the readings past the bound (48 MB of "ramp" at cache
        # 2,250 on 3 December, when both shared one worker).
        floor_settings = settings.model_copy(update={"task_queue": f"{settings.task_queue}-floor"})
        (home / "floor").mkdir()
        with (
            worker_processes(settings, 1, args.cache, home, heap_reports=True) as (worker,),
            worker_processes(floor_settings, 1, args.cache, home / "floor") as (floor_worker,),
        ):
            ids, _ = add_journey_contacts(engine, steps[-1] + args.warmup)
            await asyncio.sleep(3)
            idle = rss_kb(worker.pid)
            print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; cache bound {args.cache}")
            print(f"worker RSS, idle:                  {mb(idle)}")
            took = await start(bench, ids[: args.warmup], args.concurrency, args.warmup)
            await start_memory_floor(client, floor_settings.task_queue, [next(floor_ids) for _ in range(FLOOR_WARMUP)])
            warm, floor_warm = await settled_rss(worker.pid), await settled_rss(floor_worker.pid)
            reports = heap.report_path(home, 0)
            print(
                f"worker RSS, {args.warmup} warm-up journeys: {mb(warm)} (start-up {(warm - idle) / 1024:.1f} MB), "
                f"{threads(worker.pid)} threads; {heap.describe(await fresh_report(reports))}"
            )
            await start_memory_floor(client, floor_settings.task_queue, list(floor_ids))
            floored = await settled_rss(floor_worker.pid)
            floor = (floored - floor_warm) / args.floor if args.floor else 0.0
            print(
                f"twin worker RSS, {FLOOR_WARMUP} warm-up floor runs {mb(floor_warm)}, "
                f"+ {args.floor} bare floor runs asleep {mb(floored)}",
                flush=True,
            )
            done, rows, first_heap = args.warmup, [], None
            for step in steps:
                took = await start(bench, ids[done : args.warmup + step], args.concurrency, args.warmup + step)
                rss = await settled_rss(worker.pid)
                rows.append((step, rss))
                rate = (args.warmup + step - done) / took
                cached = min(step + args.warmup, args.cache)
                now = await fresh_report(reports)
                swept = await asyncio.to_thread(heap.collect_and_report, worker.pid, reports)
                print(
                    f"{step:6d} sleeping journeys ({cached} runs cached): RSS {mb(rss)}, {threads(worker.pid)} threads "
                    f"({took:.0f} s, {rate:.0f} journeys/s; load {os.getloadavg()[0]:.2f})\n"
                    f"       as read: {heap.describe(now, first_heap and first_heap[0])}\n"
                    f"       after a full collection: {heap.describe(swept, first_heap and first_heap[1])}",
                    flush=True,
                )
                first_heap = first_heap or (now, swept)
                done = args.warmup + step
    report(args, warm, floor, rows)
    log("done")


def report(args: argparse.Namespace, warm: int, floor: float, rows: list[tuple[int, int]]) -> None:
    first, first_rss = rows[0]
    per = (first_rss - warm) / first
    last, last_rss = rows[-1]
    past = (last_rss - first_rss) / max(1, last - first)
    print()
    print(f"a cached journey costs {per:.1f} KB (slope over the first {first} journeys, all cached)")
    if args.floor:
        print(
            f"the bare floor (a hand-written workflow: one activity, then a two-week sleep; bench.memory_floor) "
            f"costs {floor:.1f} KB a cached run: journey / floor {per / floor:.2f}x, nurture's own share "
            f"{per - floor:.1f} KB"
        )
    verdict = "met" if per <= TARGET_KB else "MISSED" + (f" (the SDK's own floor is {floor:.1f} KB)" if floor else "")
    print(f"target a cached journey <= {TARGET_KB} KB: {verdict}")
    print(
        f"from {first} to {last} sleeping journeys (cache {args.cache}): RSS x{last_rss / first_rss:.3f}, "
        f"{past:.2f} KB per journey past the bound (an evicted journey costs nothing when this is ~0)"
    )
    if len(rows) > 2:  # past the first evictions: the one-off step they cost is behind
        second, second_rss = rows[1]
        print(
            f"from {second} to {last} (every step past the first evictions): RSS x{last_rss / second_rss:.3f}, "
            f"{(last_rss - second_rss) / max(1, last - second):.2f} KB per journey"
        )
    # What sizes the default cache: a slot's cost once the cache has turned over (a cached journey plus its share of
    # the one-off step the first evictions leave: the allocator's free memory and garbage awaiting the collector).
    # A worker in service is past its first turnover, so this, not the first step's slope, is what a budget holds.
    turned = last >= 2 * args.cache
    slot = (last_rss - warm) / args.cache if turned else per
    basis = "a slot after the cache turned over" if turned else f"{per:.1f} KB a cached journey (no turnover yet)"
    fits = int(args.budget_mb * 1024 / slot) if slot > 0 else 0
    print(
        f"a cache slot costs {slot:.1f} KB at {last} journeys ({basis}): a {args.budget_mb} MB budget over a warm "
        f"worker ({mb(warm).strip()}) holds {fits} cached journeys"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--steps", default="1000,5000,10000,20000", help="cumulative sleeping journeys after warm-up")
    parser.add_argument("--warmup", type=int, default=200, help="journeys run before the baseline is read")
    parser.add_argument(
        "--cache", type=int, default=1200, help="max_cached_workflows (default: the warm-up and the first step)"
    )
    parser.add_argument("--floor", type=int, default=1000, help="bare floor runs measured after the warm-up (0: none)")
    parser.add_argument("--concurrency", type=int, default=128, help="journey starts in flight")
    parser.add_argument("--budget-mb", type=int, default=512, help="memory for cached journeys, for the default")
    parser.add_argument(
        "--collect-every",
        type=float,
        default=0,
        help="probe: the worker runs a full garbage collection this often, in seconds (0: Python's own schedule)",
    )
    parser.add_argument("--database-url", default=None)
    asyncio.run(run(parser.parse_args()))
    sys.stdout.flush()
    os._exit(0)  # the Temporal client can crash at interpreter exit (sdk-python #300)


if __name__ == "__main__":
    main()
