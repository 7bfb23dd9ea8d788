"""Ingest path: nurture's verify + parse + store + route of SendGrid batches, against a raw bulk insert of the rows.

What it measures, on SQLite and PostgreSQL in one run (no Temporal, no HTTP: the database path alone)
    Two fresh, migrated databases per backend, seeded alike: `--contacts` contacts, each enrolled in b2b_drip.
    The same signed 1,000-event batches (SendGrid's shape and mix, from `bench.webhook_throughput.events_for`) go

    - through nurture: `signature.verify`, `parse_batch`, then `store_sendgrid_batch` in one transaction per
      batch (dedupe, contact lookup, insert, suppression, routing into the outbox, settling by evidence), exactly
      what `POST /webhooks/sendgrid` does between reading the body and answering;
    - raw: the event rows those batches become, inserted with one plain bulk `INSERT` per batch (SQLAlchemy's
      executemany, multi-row VALUES on both backends) in one transaction per batch.

How to read the output
    events/s and p50/p99 latency per batch for each side, and the ratio nurture / raw. Targets (issue 12):
    >= 10,000 events/s on PostgreSQL, >= 15,000/s on SQLite, ratio >= 0.3, p99 < 250 ms.

Run: `.venv/bin/python -m bench.ingest_path [--batches 20] [--contacts 200]` (or `bench.webhook_throughput --path`).
"""

from __future__ import annotations

import argparse
import json
import os
import random  # noqa: TID251 - synthetic benchmark events, not workflow code
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from nurture.clock import utcnow
from nurture.db import Contact, Enrollment
from nurture.db.engine import make_engine, migrate, session_scope
from nurture.inbound import signature
from nurture.inbound.sendgrid_events import parse_batch
from nurture.inbound.store import EVENT, event_row, store_sendgrid_batch
from nurture.redaction import Redactor

PG_ADMIN_URL = os.environ.get("NURTURE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def seed(engine: Engine, n: int) -> list[int]:
    now = utcnow()
    with session_scope(engine) as s:
        contacts = [
            Contact(email=f"c{i}@bench.example", persona="finance-lead", created_at=now, updated_at=now)
            for i in range(n)
        ]
        s.add_all(contacts)
        s.flush()
        ids = [c.id for c in contacts if c.id is not None]
        s.add_all(
            Enrollment(contact_id=i, journey="b2b_drip", workflow_id=f"journey-b2b_drip-{i}", enrolled_at=now)
            for i in ids
        )
    return ids


def batches_for(ids: list[int], count: int, size: int) -> list[bytes]:
    from bench.webhook_throughput import events_for  # that module pulls in Temporal

    rng = random.Random(7)
    out = []
    for _ in range(count):
        events: list[dict[str, Any]] = []
        while len(events) < size:
            events += events_for(rng.choice(ids), max(1, size // len(ids)), rng)
        out.append(json.dumps(events[:size]).encode())
    return out


def timed(batches: list[Any], one: Callable[[Any], None]) -> tuple[float, list[float]]:
    latencies = []
    start = time.perf_counter()
    for b in batches:
        t = time.perf_counter()
        one(b)
        latencies.append(time.perf_counter() - t)
    return time.perf_counter() - start, latencies


def nurture_side(engine: Engine, bodies: list[bytes]) -> tuple[float, list[float]]:
    private, public = signature.generate_key()
    key = signature.load_public_key(public)
    signed = [(body, signature.signed_headers(private, body, utcnow())) for body in bodies]

    def one(item: tuple[bytes, dict[str, str]]) -> None:
        body, headers = item
        now = utcnow()
        signature.verify(
            key,
            signature=headers[signature.SIGNATURE_HEADER],
            timestamp=headers[signature.TIMESTAMP_HEADER],
            body=body,
            now=now,
            max_age_seconds=600,
        )
        batch = parse_batch(body)
        with engine.begin() as conn:
            store_sendgrid_batch(conn, batch, now, redactor=Redactor.of())

    return timed(signed, one)


def raw_side(engine: Engine, bodies: list[bytes], ids: list[int]) -> tuple[float, list[float]]:
    now = utcnow()
    known = set(ids)
    rows_per_batch = []
    for body in bodies:
        unique = {ev.dedupe_key: ev for ev in parse_batch(body).events}
        rows_per_batch.append(
            [
                event_row(
                    dedupe_key=ev.dedupe_key, kind=ev.kind, source="sendgrid", occurred_at=ev.occurred_at,
                    received_at=now, contact_id=ev.contact_id if ev.contact_id in known else None,
                    journey=ev.journey, item_id=ev.item_id, url=ev.url, machine=ev.machine, data=ev.data,
                )
                for ev in unique.values()
            ]
        )  # fmt: skip

    def one(rows: list[dict[str, Any]]) -> None:
        with engine.begin() as conn:
            conn.execute(insert(EVENT), rows)

    return timed(rows_per_batch, one)


def fresh_database(backend: str, workdir: Path) -> tuple[str, Callable[[], None]]:
    if backend == "sqlite":
        path = workdir / f"{uuid.uuid4().hex[:8]}.db"
        return f"sqlite:///{path}", lambda: None
    name = f"nurture_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{PG_ADMIN_URL.rpartition('/')[0]}/{name}", drop


def report(label: str, total: int, elapsed: float, latencies: list[float]) -> float:
    rate = total / elapsed
    p50 = statistics.median(latencies) * 1000
    p99 = statistics.quantiles(latencies, n=100)[98] * 1000 if len(latencies) > 1 else p50
    print(f"  {label:<34} {rate:9.0f} events/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms", flush=True)
    return rate


def run_backend(backend: str, args: argparse.Namespace, workdir: Path) -> None:
    databases = [fresh_database(backend, workdir) for _ in range(2)]
    try:
        engines = []
        for url, _ in databases:
            migrate(url)
            engines.append(make_engine(url))
        ids = seed(engines[0], args.contacts)
        seed(engines[1], args.contacts)
        bodies = batches_for(ids, args.batches, args.batch)
        total = args.batches * args.batch
        print(f"{backend}: {args.batches} batches of {args.batch} events, {args.contacts} enrolled contacts")
        raw = report("raw bulk INSERT of the rows", total, *raw_side(engines[1], bodies, ids))
        ours = report("nurture verify+parse+store+route", total, *nurture_side(engines[0], bodies))
        target = 10_000 if backend == "postgresql" else 15_000
        print(f"  ratio nurture / raw: {ours / raw:.2f} (target >= 0.3); target >= {target:,}/s: "
              f"{'met' if ours >= target else 'NOT met'}")  # fmt: skip
        for engine in engines:
            engine.dispose()
    finally:
        for _, drop in databases:
            drop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--contacts", type=int, default=200)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="nurture-ingest-"))
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for backend in args.backends.split(","):
        run_backend(backend, args, workdir)


if __name__ == "__main__":
    main()
