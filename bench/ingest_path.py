"""Ingest path: nurture's verify + parse + store + route of SendGrid batches, against a raw bulk insert of the rows.

What it measures, on SQLite and PostgreSQL in one run (no Temporal, no HTTP: the database path alone)
    Two fresh, migrated databases per backend, seeded alike: `--contacts` contacts, each enrolled in b2b_drip.
    The same signed 1,000-event batches (SendGrid's shape and mix, from `bench.webhook_throughput.events_for`) go

    - through nurture: `signature.verify`, `parse_batch`, then `store_sendgrid_batch` in one transaction per
      batch (dedupe, contact lookup, insert, suppression, routing into the outbox, settling by evidence), exactly
      what `POST /webhooks/sendgrid` does between reading the body and answering;
    - raw: the event rows those batches become (unique per batch, contact ids resolved), converted to driver
      values before the clock starts, then inserted by the driver alone in one transaction per batch: `COPY` on
      PostgreSQL, `executemany` on SQLite. No dedupe, no routing: the floor for writing those rows at all.
    The sides take turns batch by batch (raw first), so drift in a shared machine's load hits both alike.

How to read the output
    Per side events/s, p50/p99 per batch and CPU per batch; the ratio nurture / raw (issue 12 targets: >= 10,000/s
    on PostgreSQL, >= 15,000/s on SQLite, ratio >= 0.3, p99 < 250 ms); then nurture's time per batch by stage.
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from bench.harness import fresh_database
from nurture.clock import utcnow
from nurture.db import Contact, Enrollment, bulk_insert
from nurture.db.engine import make_engine, migrate, session_scope
from nurture.db.tables import EVENT
from nurture.heap import freeze_start_up_heap
from nurture.inbound import signature, store
from nurture.inbound.sendgrid_events import parse_batch
from nurture.inbound.store import event_row
from nurture.redaction import Redactor


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


Timing = tuple[float, list[float], float]  # wall seconds, per-batch latencies, CPU seconds of this process
Side = tuple[list[Any], Callable[[Any], None]]  # prepared batches, and what runs one of them


def alternated(raw: Side, ours: Side) -> tuple[Timing, Timing]:
    """Run batch i of each side in turn (raw first), so load drift on a shared machine hits both alike."""
    times: list[list[float]] = [[], []]
    cpus = [0.0, 0.0]
    for pair in zip(raw[0], ours[0], strict=True):
        for side, (item, one) in enumerate(zip(pair, (raw[1], ours[1]), strict=True)):
            t, c = time.perf_counter(), time.process_time()
            one(item)
            times[side].append(time.perf_counter() - t)
            cpus[side] += time.process_time() - c
    return (sum(times[0]), times[0], cpus[0]), (sum(times[1]), times[1], cpus[1])


class Stages:
    """Wall and CPU seconds (this process) spent in each named stage (nurture's functions wrapped for the run)."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._undo: list[Callable[[], None]] = []

    def clock(self, name: str) -> Iterator[None]:
        return _clock(self.spent, self.cpu, name)

    def wrap(self, module: Any, attr: str, name: str) -> None:
        original = getattr(module, attr)

        def timed_call(*args: Any, **kwargs: Any) -> Any:
            with self.clock(name):
                return original(*args, **kwargs)

        setattr(module, attr, timed_call)
        self._undo.append(lambda: setattr(module, attr, original))

    def restore(self) -> None:
        for undo in reversed(self._undo):
            undo()


@contextmanager
def _clock(spent: dict[str, float], cpu: dict[str, float], name: str) -> Iterator[None]:
    t, c = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        spent[name] = spent.get(name, 0.0) + time.perf_counter() - t
        cpu[name] = cpu.get(name, 0.0) + time.process_time() - c


def nurture_side(engine: Engine, bodies: list[bytes], stages: Stages) -> Side:
    private, public = signature.generate_key()
    key = signature.load_public_key(public)
    signed = [(body, signature.signed_headers(private, body, utcnow())) for body in bodies]
    for module, attr, name in (
        (store, "insert_events", "insert events"),
        (store, "contact_statuses", "contact lookup"),
        (store, "route", "route (suppress, journeys, outbox)"),
        (store, "settle_by_evidence", "settle by evidence"),
        (store, "store_rejected", "rejected rows"),
    ):
        stages.wrap(module, attr, name)

    def one(item: tuple[bytes, dict[str, str]]) -> None:
        body, headers = item
        now = utcnow()
        with stages.clock("signature"):
            signature.verify(
                key,
                signature=headers[signature.SIGNATURE_HEADER],
                timestamp=headers[signature.TIMESTAMP_HEADER],
                body=body,
                now=now,
                max_age_seconds=600,
            )
        with stages.clock("parse + validate"):
            batch = parse_batch(body)
        with stages.clock("transaction"), engine.begin() as conn:
            store.store_sendgrid_batch(conn, batch, now, redactor=Redactor.of())

    return signed, one


def raw_side(engine: Engine, bodies: list[bytes], ids: list[int]) -> Side:
    """The same rows, already driver values, through the driver's own bulk path (COPY / executemany)."""
    now = utcnow()
    known = set(ids)
    names = [c.name for c in EVENT.columns if c.name != "id"]
    with engine.connect() as conn:
        process = {n: EVENT.c[n].type._cached_bind_processor(conn.dialect) for n in names}
    process["data"] = bulk_insert.json_text
    batches = []
    for body in bodies:
        unique = {ev.dedupe_key: ev for ev in parse_batch(body).events}
        rows = [
            event_row(
                dedupe_key=ev.dedupe_key, kind=ev.kind, source="sendgrid", occurred_at=ev.occurred_at,
                received_at=now, contact_id=ev.contact_id if ev.contact_id in known else None,
                journey=ev.journey, item_id=ev.item_id, url=ev.url, machine=ev.machine, data=ev.data,
            )
            for ev in unique.values()
        ]  # fmt: skip
        batches.append([tuple(row[n] if process[n] is None else process[n](row[n]) for n in names) for row in rows])
    columns = ", ".join(names)
    postgres = engine.dialect.name == "postgresql"
    copy_sql = f"COPY event ({columns}) FROM STDIN"
    insert_sql = f"INSERT INTO event ({columns}) VALUES ({', '.join('?' * len(names))})"

    def one(rows: list[tuple[Any, ...]]) -> None:
        with engine.begin() as conn:
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            if postgres:
                with cursor.copy(copy_sql) as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(insert_sql, rows)
            cursor.close()

    return batches, one


def report_stages(stages: Stages, batches: int, elapsed: float) -> None:
    """Per stage: wall ms per batch, its share of the run, and this process's CPU ms per batch (steadier than
    wall time on a loaded machine; PostgreSQL's own CPU is in the wall time only)."""
    rest = "commit, row building, dedupe, rest"
    spent, cpu = dict(stages.spent), dict(stages.cpu)
    for d in (spent, cpu):
        transaction = d.pop("transaction", 0.0)
        d[rest] = max(0.0, transaction - sum(v for k, v in d.items() if k not in ("signature", "parse + validate")))
    print(f"  where nurture's time goes (per batch; CPU of this process {sum(cpu.values()) / batches * 1000:.1f} ms):")
    for name, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(
            f"    {name:<38} {seconds / batches * 1000:7.1f} ms wall {seconds / elapsed:6.1%}"
            f"   {cpu[name] / batches * 1000:6.1f} ms CPU"
        )


def report(label: str, total: int, elapsed: float, latencies: list[float], cpu: float) -> tuple[float, float]:
    """Print one side; its events/s and its CPU ms per batch."""
    rate = total / elapsed
    p50 = statistics.median(latencies) * 1000
    p99 = statistics.quantiles(latencies, n=100)[98] * 1000 if len(latencies) > 1 else p50
    cpu_ms = cpu / len(latencies) * 1000
    print(
        f"  {label:<34} {rate:9.0f} events/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   CPU {cpu_ms:5.1f} ms/batch",
        flush=True,
    )
    return rate, cpu_ms


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
        raw_label = "raw COPY of the rows" if backend == "postgresql" else "raw executemany of the rows"
        stages = Stages()
        freeze_start_up_heap()  # as `nurture api` does before it serves (both sides run after it)
        try:
            raw_timing, ours_timing = alternated(
                raw_side(engines[1], bodies, ids), nurture_side(engines[0], bodies, stages)
            )
        finally:
            stages.restore()
        raw, raw_cpu = report(raw_label, total, *raw_timing)
        elapsed, latencies, cpu = ours_timing
        ours, ours_cpu = report("nurture verify+parse+store+route", total, elapsed, latencies, cpu)
        target = 10_000 if backend == "postgresql" else 15_000
        p99 = statistics.quantiles(latencies, n=100)[98] * 1000 if len(latencies) > 1 else latencies[0] * 1000
        met = {True: "met", False: "NOT met"}
        print(f"  ratio nurture / raw: {ours / raw:.2f} (target >= 0.3); target >= {target:,}/s: "
              f"{met[ours >= target]}; p99 < 250 ms: {met[p99 < 250]}")  # fmt: skip
        print(f"  CPU of this process per batch, raw / nurture: {raw_cpu / ours_cpu:.2f}"
              + (" (PostgreSQL's own CPU not included)" if backend == "postgresql" else ""))  # fmt: skip
        report_stages(stages, args.batches, elapsed)
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
