"""Console pages at scale: 100k contacts and 1M touches, each page's time against the bare queries behind it.

What it measures
    A fresh PostgreSQL database (migrated, so with the funnel's indexes) is seeded with `--contacts` contacts in
    two journeys, `--touches-per-contact` scheduled drops each (1M touches by default) and engagement events for
    them (delivered, opened by people and by machines, clicked), generated inside PostgreSQL
    (generate_series, plain indexes rebuilt after the load). The API with the console is
    served in this process next to a Temporal dev server (the shipped binary: the journey page asks visibility for
    stage and phase counts, which are 0 here). Then, for each page, the median of `--repeat` signed-in requests
    against the median of the same number of direct calls of the database work behind it:

    - journeys index      vs `funnel.summary` for each journey
    - journey + uplift    vs `funnel.funnel` and the lifecycle counts: the uplift panel (b2b_drip's holdout and
                            subject-line arms, clicks within 30 days) is read from the background's snapshot
                            (`nurture.console.uplift_snapshots`), never computed in the request
    - journey, mql        the same with the outcome "reached mql" (from `stage_change`), once its snapshot is in

    Apart: how long the background takes to compute each panel (`console_panel`, what it used to cost every
    request) and, for the mql question, the time from the first GET ("computing") to a page with the figures.
    - contact timeline    vs `timeline_of` (touches, events, enrollments, scores computed, consent)
    - contact search      vs the email prefix query
    - broadcasts list     vs the recent broadcasts query

How to read the output
    Seconds per page and per bare query, and their ratio: what templates, HTTP, sessions and (for the journey
    page) Temporal visibility add. The rollup's one-off catch-up over all rows is printed apart; after it, the
    API's background task folds only what arrived since (pages never fold). Nothing is asserted.

Run: `.venv/bin/python -m bench.console_pages [--contacts 100000] [--touches-per-contact 10] [--repeat 5]`
(PostgreSQL at 127.0.0.1:5432, or `--admin-url`).
"""

from __future__ import annotations

import argparse
import asyncio
import random  # noqa: TID251 - synthetic benchmark data, not workflow code
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import psycopg
from sqlalchemy import func, select
from sqlmodel import Session
from temporalio.testing import WorkflowEnvironment

from nurture import search_attributes
from nurture.api.server import build_server
from nurture.binaries import temporal_cli
from nurture.clock import utcnow
from nurture.config import Settings
from nurture.console import passwords, store
from nurture.console.contacts import timeline_of
from nurture.console.leads import stage_counts
from nurture.context import AppContext
from nurture.db.engine import make_engine, migrate, session_scope
from nurture.db.tables import BROADCAST, CONTACT
from nurture.measure import funnel, rollup
from nurture.measure.outcomes import StageOutcome
from nurture.measure.panel import console_panel

JOURNEYS = ("b2b_drip", "b2c_cultivation")
PASSWORD = "bench password, long enough"


SEED = [
    # contacts: one journey each, alternating
    """INSERT INTO contact (id, email, first_name, last_name, company, persona, time_zone, topics, status,
         consent_source, created_at, updated_at)
       SELECT i, 'person' || i || '@example.com', 'P' || i, '', '', 'general', 'UTC', '[]', 'active', 'bench',
         %(t0)s, %(t0)s FROM generate_series(1, %(contacts)s) AS i""",
    # one enrollment each; a tenth unsubscribed, a tenth became customers
    """INSERT INTO enrollment (contact_id, journey, workflow_id, enrolled_at, ended_at, outcome)
       SELECT i, j, 'journey/' || j || '/contact-' || i, %(t0)s,
         CASE WHEN i %% 10 IN (8, 9) THEN %(t0)s + interval '90 days' END,
         CASE i %% 10 WHEN 8 THEN 'unsubscribed' WHEN 9 THEN 'customer' END
       FROM (SELECT i, CASE i %% 2 WHEN 0 THEN 'b2b_drip' ELSE 'b2c_cultivation' END AS j
             FROM generate_series(1, %(contacts)s) AS i) c""",
    # a drop every two weeks; one contact in fifty suppressed; b2b_drip as shipped: a tenth held out, every
    # contact's subject-line arm recorded on its touches
    """INSERT INTO touch (idempotency_key, contact_id, journey, workflow_id, step, item_id, channel, sender, status,
         reason, created_at, sent_at, variants)
       SELECT 'journey/' || j || '/contact-' || i || ':item-' || k, i, j, 'journey/' || j || '/contact-' || i,
         'drop ' || k, 'item-' || k, 'email', 'outbox',
         CASE WHEN j = 'b2b_drip' AND i %% 20 = 6 THEN 'held_out' WHEN i %% 50 = 0 THEN 'suppressed' ELSE 'sent' END,
         '', %(t0)s + k * interval '14 days' + (i %% 600) * interval '1 minute',
         %(t0)s + k * interval '14 days' + (i %% 600) * interval '1 minute',
         CASE WHEN j = 'b2b_drip' THEN json_build_object('subject-line', CASE WHEN i %% 4 = 0 THEN 'a' ELSE 'b' END)
              ELSE '{}'::json END
       FROM (SELECT i, CASE i %% 2 WHEN 0 THEN 'b2b_drip' ELSE 'b2c_cultivation' END AS j
             FROM generate_series(1, %(contacts)s) AS i) c, generate_series(1, %(per_contact)s) AS k""",
    # engagement: 60%% delivered, 35%% opened (a third by machines), 6%% clicked; r is a fixed pseudo-random draw
    """INSERT INTO event (dedupe_key, contact_id, kind, source, occurred_at, received_at, journey, item_id, machine,
         data)
       SELECT 'bench:' || i || ':' || k || ':' || kind, i, kind, 'sendgrid',
         %(t0)s + k * interval '14 days' + (i %% 600) * interval '1 minute' + (r %% 48) * interval '1 hour',
         %(t0)s, j, 'item-' || k, kind = 'opened' AND r < 10, '{}'
       FROM (SELECT i, k, (i * 7919 + k * 104729) %% 100 AS r,
                    CASE i %% 2 WHEN 0 THEN 'b2b_drip' ELSE 'b2c_cultivation' END AS j
             FROM generate_series(1, %(contacts)s) AS i, generate_series(1, %(per_contact)s) AS k) d,
            LATERAL (VALUES ('delivered', 60), ('opened', 35), ('clicked', 6)) AS e(kind, below)
       WHERE r < below""",
    # lifecycle: everyone a subscriber at opt-in; one in five reaches mql a month in, one in twenty customer later
    """INSERT INTO stage_change (contact_id, from_stage, to_stage, at, why, actor_kind, actor_id)
       SELECT i, s.from_stage, s.to_stage, %(t0)s + s.after, 'bench', 'journey_step', ''
       FROM generate_series(1, %(contacts)s) AS i,
            LATERAL (VALUES (NULL, 'subscriber', interval '0 days', 0), ('subscriber', 'mql', interval '30 days', 5),
                            ('mql', 'customer', interval '60 days', 20)) AS s(from_stage, to_stage, after, every)
       WHERE s.every = 0 OR i %% s.every = 1""",
]


def seed(url: str, contacts: int, per_contact: int) -> dict[str, int]:
    """Generate the rows in the database (generate_series: no round trips); returns row counts."""
    params = {"t0": utcnow() - timedelta(days=400), "contacts": contacts, "per_contact": per_contact}
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    tables = ("contact", "enrollment", "touch", "event", "stage_change")
    with psycopg.connect(plain, autocommit=True) as conn:
        # Plain indexes are dropped for the load and rebuilt after it (constraint indexes stay): much faster.
        indexes = conn.execute(
            """SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) AND indexname NOT IN
               (SELECT conname FROM pg_constraint)""",
            (list(tables),),
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        conn.execute("SET session_replication_role = replica")  # generated rows are consistent: skip FK triggers
        for statement in SEED:
            started = time.perf_counter()
            conn.execute(statement, params)
            print(f"  {statement.split()[2]}: {time.perf_counter() - started:.1f} s")
        conn.execute("SET session_replication_role = DEFAULT")
        for _, definition in indexes:
            conn.execute(definition)
        counts = {}
        for table in tables:
            conn.execute(f"VACUUM ANALYZE {table}")  # steady state: index-only scans
            counts[table] = int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]
    return counts


async def median_seconds(call: Callable[[], Awaitable[Any]], repeat: int) -> float:
    await call()  # warm
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        await call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--touches-per-contact", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    name = f"nurture_bench_console_{uuid.uuid4().hex[:8]}"
    base = args.admin_url.rsplit("/", 1)[0]
    with psycopg.connect(args.admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{base}/{name}"
    env = None
    try:
        migrate(url)
        start = time.perf_counter()
        counts = seed(url, args.contacts, args.touches_per_contact)
        print(f"seeded {counts} in {time.perf_counter() - start:.1f} s")
        engine = make_engine(url)
        started = time.perf_counter()
        with engine.begin() as conn:
            folded = rollup.refresh(conn, utcnow(), timedelta(0))
        print(f"funnel rollup caught up ({folded}) in {time.perf_counter() - started:.1f} s (once, then incremental)")
        with session_scope(engine) as s:
            store.add_user(s, "bench", passwords.hash_password(PASSWORD), utcnow())
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=temporal_cli(),
            search_attributes=search_attributes.ALL_SEARCH_ATTRIBUTES,
            dev_server_extra_args=["--log-level", "error"],
            dev_server_startup_timeout=timedelta(seconds=60),  # the SDK's 5 s is too short on busy cores
        )
        port = 18000 + random.randrange(1000)
        settings = Settings(_env_file=None, database_url=url, api_port=port, log_level="WARNING")
        server = build_server(AppContext(settings, engine, env.client), "127.0.0.1", port, relay=False)
        task = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
            await asyncio.sleep(0.05)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
            form = await http.get("/console/login")
            csrf = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            signed = await http.post(
                "/console/login", data={"username": "bench", "password": PASSWORD, "csrf_token": csrf}
            )
            assert signed.status_code == 303, signed.text

            def bare(work: Callable[[Any], Any]) -> Callable[[], Awaitable[Any]]:
                async def run() -> Any:
                    def go() -> Any:
                        with engine.connect() as conn:
                            return work(conn)

                    return await asyncio.to_thread(go)

                return run

            def get(path: str) -> Callable[[], Awaitable[Any]]:
                async def run() -> Any:
                    r = await http.get(path)
                    assert r.status_code == 200, (path, r.status_code)

                return run

            cid = args.contacts // 2
            B = BROADCAST.c
            C = CONTACT.c
            pages = [
                ("journeys index", "/console/journeys", lambda c: [funnel.summary(c, j) for j in JOURNEYS]),
                (
                    "journey + uplift",
                    f"/console/journeys/{JOURNEYS[0]}",
                    lambda c: (funnel.funnel(c, JOURNEYS[0]), stage_counts(c, JOURNEYS[0])),
                ),
                (
                    "journey, mql",
                    f"/console/journeys/{JOURNEYS[0]}?outcome=mql",
                    lambda c: (funnel.funnel(c, JOURNEYS[0]), stage_counts(c, JOURNEYS[0])),
                ),
                (
                    "contact timeline",
                    f"/console/contacts/{cid}",
                    lambda c: timeline_of(Session(bind=c), cid, settings, utcnow()),
                ),
                (
                    "contact search",
                    "/console/contacts?q=person12345",
                    lambda c: c.execute(
                        select(C).where(func.lower(C.email).like("person12345%")).order_by(C.email).limit(50)
                    ).all(),
                ),
                (
                    "broadcasts list",
                    "/console/broadcasts",
                    lambda c: c.execute(select(B).order_by(B.created_at.desc()).limit(50)).all(),
                ),
            ]
            for path in (f"/console/journeys/{JOURNEYS[0]}", f"/console/journeys/{JOURNEYS[0]}?outcome=mql"):
                started = time.perf_counter()
                while 'id="uplift-computing"' in (await http.get(path)).text:  # noqa: ASYNC110 - polling a page
                    await asyncio.sleep(0.5)
                print(f"{path}: uplift figures on the page {time.perf_counter() - started:.1f} s after the first GET")
            print(f"{'page':<18} {'page s':>9} {'bare s':>9} {'ratio':>7}")
            for label, path, work in pages:
                page_s = await median_seconds(get(path), args.repeat)
                bare_s = await median_seconds(bare(work), args.repeat)
                print(f"{label:<18} {page_s:>9.4f} {bare_s:>9.4f} {page_s / bare_s:>7.2f}")
            parts = [  # where the journey page's bare time goes
                ("funnel.funnel", lambda c: funnel.funnel(c, JOURNEYS[0])),
                ("uplift, click", lambda c: console_panel(c, JOURNEYS[0])),  # in the background, not the page
                ("uplift, mql", lambda c: console_panel(c, JOURNEYS[0], StageOutcome("mql"))),
                ("stage_counts", lambda c: stage_counts(c, JOURNEYS[0])),
            ]
            for label, work in parts:
                print(f"  {label:<16} {'':>9} {await median_seconds(bare(work), args.repeat):>9.4f}")
        server.should_exit = True
        await task
        engine.dispose()
    finally:
        if env is not None:
            await env.shutdown()
        with psycopg.connect(args.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
