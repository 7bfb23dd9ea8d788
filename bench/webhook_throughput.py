"""Webhook throughput: SendGrid events through `POST /webhooks/sendgrid` end to end, against raw Temporal signals.

What it measures
    `nurture api` runs as its own process (as in production) on a fresh database, with its outbox relay; a
    Temporal dev server (the shipped binary) and one Python worker with the real journey activities (dev outbox
    sender) run here. `--contacts` contacts are enrolled in b2b_drip (compressed time, so each has sent its first
    drop and is waiting for a click or a pricing view).

    - reference: raw Temporal signals (`record_engagement`) sent straight to those workflows from this process,
      `--concurrency` at a time: the rate Temporal itself accepts signals here, measured in the same run;
    - webhook: signed 1,000-event batches (SendGrid's shape and mix: processed, delivered, opens of which a third
      are Apple machine opens, clicks for a quarter of messages, some deferrals) posted one after another. The
      clock stops when the last batch is stored AND the outbox is drained (every owed signal delivered): verify,
      parse, dedupe, store, route, signal.

How to read the output
    Per batch p50/p99 latency (HTTP round trip: verify + validate + one transaction), events/s end to end,
    signals the events owed (only journeys that wait for an event are signalled: clicks here, never opens), the
    raw signal rate, and the ratio webhook events/s / raw signals/s. The issue's target is >= 2,000 events/s
    stored and routed on a 2-core machine. Nothing here is asserted anywhere.

Run: `.venv/bin/python -m bench.webhook_throughput [--batches 20] [--contacts 200] [--database-url URL]`;
`--path` runs only `bench.ingest_path` (nurture's store+route against a raw bulk insert, SQLite and PostgreSQL).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random  # noqa: TID251 - synthetic benchmark events, not workflow code
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlmodel import col
from temporalio.client import Client

from activities.journey import journey_activities
from bench.harness import DevServer, dev_server, free_port
from definitions import load_definitions
from nurture import sendgrid_args, temporal_names, workflow_ids
from nurture.clock import utcnow
from nurture.config import Settings
from nurture.db import Contact, SignalOutbox, Touch
from nurture.db.engine import make_engine, migrate, session_scope
from nurture.inbound import signature
from nurture.journey_client import enroll
from workers.journey_worker import build_worker
from workflows.payloads import EngagementEvent

TIME_SCALE = 1000.0


def _event(base: dict[str, Any], message: str, sent: int, kind: str, dt: int, **extra: Any) -> dict[str, Any]:
    return {
        **base,
        "event": kind,
        "timestamp": sent + dt,
        "sg_event_id": uuid.uuid4().hex,
        "sg_message_id": f"{message}.filter{uuid.uuid4().hex[:8]}.0",  # the node suffix varies per event
        **extra,
    }


def events_for(contact_id: int, n: int, rng: random.Random) -> list[dict[str, Any]]:
    """About `n` events for messages sent to `contact_id`, in SendGrid's shape and a realistic mix."""
    out: list[dict[str, Any]] = []
    now = int(utcnow().timestamp())
    while len(out) < n:
        message = uuid.uuid4().hex[:22]
        sent = now - rng.randint(60, 3600)
        base = {
            "email": f"c{contact_id}@bench.example",
            "smtp-id": f"<{message}@ismtpd-1>",
            "category": ["nurture"],
            sendgrid_args.CUSTOM_ARG_CONTACT: str(contact_id),
            sendgrid_args.CUSTOM_ARG_JOURNEY: "b2b_drip",
            sendgrid_args.CUSTOM_ARG_ITEM: "bench-item",
            sendgrid_args.CUSTOM_ARG_TOUCH: str(rng.randint(1, 10**6)),  # every real drop carries its touch id
        }
        out += [_event(base, message, sent, "processed", 0), _event(base, message, sent, "delivered", 2)]
        if rng.random() < 0.1:
            out.append(_event(base, message, sent, "deferred", 1, attempt="1", response="421 try later"))
        if rng.random() < 0.6:
            machine = rng.random() < 0.33
            out.append(_event(base, message, sent, "open", 30, sg_machine_open=machine, useragent="Mozilla/5.0"))
        if rng.random() < 0.25:
            out.append(_event(base, message, sent, "click", 40, url="https://ledgerline.example/guide"))
    rng.shuffle(out)  # SendGrid does not keep order
    return out[:n]


async def enroll_contacts(client: Client, engine: Any, settings: Settings, n: int) -> list[int]:
    now = utcnow()
    with session_scope(engine) as s:
        contacts = [
            Contact(email=f"c{i}@bench.example", persona="finance-lead", created_at=now, updated_at=now)
            for i in range(n)
        ]
        s.add_all(contacts)
        s.flush()
        ids = [c.id for c in contacts if c.id is not None]
    gate = asyncio.Semaphore(20)

    async def one(cid: int) -> None:
        async with gate:
            await enroll(client, engine, settings, cid, "b2b_drip", time_scale=TIME_SCALE)

    await asyncio.gather(*(one(cid) for cid in ids))
    deadline = time.monotonic() + 120
    while True:  # every journey has sent its first drop and waits
        with session_scope(engine) as s:
            sent = s.execute(select(func.count()).select_from(Touch)).scalar_one()
        if sent >= n:
            return ids
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {sent} of {n} journeys started")
        await asyncio.sleep(0.2)


async def raw_signal_rate(client: Client, ids: list[int], count: int, concurrency: int) -> float:
    gate = asyncio.Semaphore(concurrency)
    handles = [client.get_workflow_handle(workflow_ids.journey_workflow_id("b2b_drip", cid)) for cid in ids]

    async def one(i: int) -> None:
        async with gate:
            payload = EngagementEvent(event_id=f"raw-{i}", kind="opened", occurred_at=utcnow())
            await handles[i % len(handles)].signal(temporal_names.SIGNAL_ENGAGEMENT, payload)

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(count)))
    return count / (time.perf_counter() - start)


def pending(engine: Any) -> int:
    with session_scope(engine) as s:
        query = select(func.count()).select_from(SignalOutbox).where(SignalOutbox.delivered_at.is_(None))  # type: ignore[union-attr]
        return int(s.execute(query).scalar_one())


async def run(args: argparse.Namespace) -> None:
    load_definitions()  # an entry point: enrolment checks journey keys
    workdir = Path(tempfile.mkdtemp(prefix="nurture-bench-"))
    with dev_server(workdir) as server:
        await measure(args, workdir, server)


async def measure(args: argparse.Namespace, workdir: Path, server: DevServer) -> None:
    db_url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    migrate(db_url)
    engine = make_engine(db_url)
    private, public = signature.generate_key()
    port = free_port()
    task_queue = f"bench-{uuid.uuid4().hex[:8]}"
    client = await server.client()
    address = server.address
    settings = Settings(_env_file=None, task_queue=task_queue, home=workdir)
    api_env = {
        **os.environ,
        "NURTURE_HOME": str(workdir),
        "NURTURE_DATABASE_URL": db_url,
        "NURTURE_TEMPORAL_ADDRESS": address,
        "NURTURE_TASK_QUEUE": task_queue,
        "NURTURE_SENDGRID_WEBHOOK_PUBLIC_KEY": public,
        "NURTURE_TRACKING_SECRET": "bench-tracking-secret-not-for-production",
        "NURTURE_LOG_LEVEL": "WARNING",
    }
    nurture = shutil.which("nurture", path=str(Path(sys.executable).parent)) or "nurture"
    log = (workdir / "api.log").open("wb")
    api = subprocess.Popen([nurture, "api", "--port", str(port)], env=api_env, stdout=log, stderr=log)  # noqa: ASYNC220
    worker = build_worker(
        client, settings, engine, activities=journey_activities(settings, engine), task_queue=task_queue
    )
    try:
        async with worker, httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            for _ in range(600):  # a loaded machine takes its time to import the API
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            else:
                raise RuntimeError(f"nurture api did not start; see {workdir / 'api.log'}")
            print(f"enrolling {args.contacts} contacts in b2b_drip ...", flush=True)
            ids = await enroll_contacts(client, engine, settings, args.contacts)

            raw = await raw_signal_rate(client, ids, args.raw_signals, args.concurrency)
            print(f"reference: raw Temporal signals      {raw:10.0f} signals/s ({args.raw_signals} signals)")

            rng = random.Random(7)
            per_contact = max(1, args.batch // len(ids))
            batches = []
            for _ in range(args.batches):
                events: list[dict[str, Any]] = []
                while len(events) < args.batch:
                    events += events_for(rng.choice(ids), per_contact, rng)
                batches.append(json.dumps(events[: args.batch]).encode())
            owed_before = _outbox_rows(engine)
            latencies = []
            start = time.perf_counter()
            for body in batches:
                sent = time.perf_counter()
                response = await http.post(
                    "/webhooks/sendgrid", content=body, headers=signature.signed_headers(private, body, utcnow())
                )
                latencies.append(time.perf_counter() - sent)
                if response.status_code != 200:
                    raise RuntimeError(f"webhook answered {response.status_code}: {response.text}")
            stored_at = time.perf_counter()
            while pending(engine):  # noqa: ASYNC110 - the outbox lives in another process's database writes
                await asyncio.sleep(0.01)
            done = time.perf_counter()
    finally:
        api.terminate()
        api.wait(timeout=10)
        log.close()
        engine.dispose()
    total = args.batches * args.batch
    rate = total / (done - start)
    signals = _outbox_rows(make_engine(db_url)) - owed_before
    p50 = statistics.median(latencies) * 1000
    p99 = statistics.quantiles(latencies, n=100)[98] * 1000 if len(latencies) > 1 else p50
    print(f"webhook: {total} events in {args.batches} batches of {args.batch} ({db_url.split(':')[0]})")
    print(f"  per batch latency                p50 {p50:7.1f} ms   p99 {p99:7.1f} ms")
    print(f"  stored (all batches answered)    {total / (stored_at - start):10.0f} events/s")
    print(f"  stored and routed (outbox empty) {rate:10.0f} events/s   ({signals} signals owed and delivered)")
    print(f"  ratio webhook events/s / raw signals/s: {rate / raw:.2f}")
    print(f"  target >= 2,000 events/s stored and routed: {'met' if rate >= 2000 else 'NOT met'}")
    kinds = _signal_kinds(make_engine(db_url))
    print(f"  signals by kind: {kinds}")
    shutil.rmtree(workdir, ignore_errors=True)


def _signal_kinds(engine: Any) -> dict[str, int]:
    with session_scope(engine) as s:
        rows = s.execute(select(col(SignalOutbox.signal), col(SignalOutbox.payload))).all()
    found: dict[str, int] = {}
    for signal_name, payload in rows:
        label = f"{signal_name}:{payload.get('kind', '')}"
        found[label] = found.get(label, 0) + 1
    return found


def _outbox_rows(engine: Any) -> int:
    with session_scope(engine) as s:
        return int(s.execute(select(func.count()).select_from(SignalOutbox)).scalar_one())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--contacts", type=int, default=200)
    parser.add_argument("--raw-signals", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64, help="raw signals in flight (the relay's default)")
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temporary directory")
    parser.add_argument(
        "--path", action="store_true", help="only the store+route path against a raw bulk insert, both databases"
    )
    args = parser.parse_args()
    if args.path:
        from bench import ingest_path  # the in-process comparison (no HTTP, no Temporal)

        ingest_path.main(["--batches", str(args.batches), "--batch", str(args.batch), "--contacts", str(args.contacts)])
        sys.stdout.flush()
        os._exit(0)
    asyncio.run(run(args))
    sys.stdout.flush()
    os._exit(0)  # the Temporal client can crash at interpreter exit (sdk-python #300)


if __name__ == "__main__":
    main()
