"""Ranked leads on 100k contacts: `top_leads` (what `nurture leads top` and `GET /leads/top` run) against a plain
indexed scan of the same table, measured in the same run.

What it measures
    A fresh migrated database (SQLite in a temp dir, or `--database-url`, e.g. PostgreSQL) gets `--contacts`
    contacts, each with a lead row (random grade, score, stage, owner among 20, readiness computed by the real
    `rank_value`). Then, `--repeat` times each, median wall time of:
    - baseline: `SELECT ... FROM lead ORDER BY contact_id LIMIT n` (a primary-key index scan of the same table);
    - top: `top_leads(limit=n)` (ORDER BY readiness DESC, contact_id DESC through `ix_lead_readiness`);
    - top --owner: one owner's leads (`ix_lead_owner_readiness`); top --stage mql (`ix_lead_stage_readiness`);
    - unindexed: the same ranking by `score` (no index): what the ranking would cost without its index.
    It prints each query's median, the ratio to the baseline, and the plan the database chose.

Run: `.venv/bin/python -m bench.leads_top [--contacts 100000] [--repeat 30] [--database-url URL]`.
"""

from __future__ import annotations

import argparse
import random  # noqa: TID251 - synthetic benchmark data, not workflow code
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.engine import Connection, Engine

from definitions.leads.fit import LADDER, Grade
from definitions.leads.readiness import rank_value
from nurture.db.engine import make_engine, migrate
from nurture.db.tables import CONTACT, LEAD, OWNER
from nurture.lifecycle.leads import top_leads

NOW = datetime(2026, 12, 1, tzinfo=UTC)
STAGES = ("subscriber", "lead", "mql", "sal", "sql", "customer", "recycled")


def seed(engine: Engine, contacts: int, rng: random.Random) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(OWNER),
            [{"key": f"o{i}", "name": "", "email": "", "team": "t", "territory": "", "time_zone": "UTC", "weight": 1,
              "away": False, "updated_at": NOW} for i in range(20)],
        )  # fmt: skip
        batch = 5000
        for start in range(0, contacts, batch):
            ids = range(start + 1, min(start + batch, contacts) + 1)
            conn.execute(
                insert(CONTACT),
                [{"id": i, "email": f"c{i}@bench.example", "first_name": "", "last_name": "", "company": "",
                  "persona": "general", "time_zone": "UTC", "topics": [], "status": "active", "consent_source": "bench",
                  "created_at": NOW, "updated_at": NOW} for i in ids],
            )  # fmt: skip
            rows = []
            for i in ids:
                steps, score = rng.randrange(len(LADDER)), round(rng.random() * 90, 2)
                signals = ["pricing page"] if rng.random() < 0.05 else []
                value = rng.choice((0.0, 0.0, 0.0, 99.0, 1200.0))
                rows.append({
                    "contact_id": i, "stage": rng.choice(STAGES), "stage_entered_at": NOW, "grade": LADDER[steps],
                    "score": score, "signals": signals, "value": value,
                    "readiness": rank_value(Grade(LADDER[steps], steps, ()), score, signals, value),
                    "why": {"rank": "bench"}, "owner_id": rng.randrange(1, 21), "last_engaged_at": NOW,
                    "updated_at": NOW,
                })  # fmt: skip
            conn.execute(insert(LEAD), rows)
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE lead"))
        else:
            conn.execute(text("ANALYZE"))


def median_ms(engine: Engine, work: Callable[[Connection], Any], repeat: int) -> float:
    times = []
    with engine.connect() as conn:
        work(conn)  # warm the cache and the statement cache
        for _ in range(repeat):
            started = time.perf_counter()
            work(conn)
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def plan(engine: Engine, sql: str) -> str:
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            return " | ".join(r[0] for r in conn.execute(text("EXPLAIN " + sql)))
        return " | ".join(str(r[-1]) for r in conn.execute(text("EXPLAIN QUERY PLAN " + sql)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--database-url", default=None, help="an EMPTY database (default: SQLite in a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        migrate(url)
        engine = make_engine(url)
        started = time.perf_counter()
        seed(engine, args.contacts, random.Random(7))
        took = time.perf_counter() - started
        print(f"{engine.dialect.name}: seeded {args.contacts} contacts + lead rows in {took:.1f} s")
        n = args.limit
        cols = "l.contact_id, l.stage, l.grade, l.score, l.signals, l.value, l.readiness, l.why, o.key"
        rows = f"SELECT {cols} FROM lead l LEFT OUTER JOIN owner o ON o.id = l.owner_id"
        ranked = "ORDER BY l.readiness DESC, l.contact_id DESC"
        sql = {
            "baseline (PK scan)": f"{rows} ORDER BY l.contact_id LIMIT {n}",
            "top (SQL)": f"{rows} {ranked} LIMIT {n}",
            "top --owner (SQL)": f"{rows} WHERE l.owner_id = 8 {ranked} LIMIT {n}",
            "top --stage mql (SQL)": f"{rows} WHERE l.stage = 'mql' {ranked} LIMIT {n}",
            "unindexed (by score)": f"{rows} ORDER BY l.score DESC LIMIT {n}",
        }

        def raw(statement: str) -> Callable[[Connection], Any]:
            return lambda c: c.execute(text(statement)).all()

        queries: dict[str, tuple[Callable[[Connection], Any], str]] = {k: (raw(v), v) for k, v in sql.items()}
        queries["top_leads() (Python)"] = (lambda c: top_leads(c, limit=n), sql["top (SQL)"])
        queries["top_leads(stage=mql)"] = (lambda c: top_leads(c, stage="mql", limit=n), sql["top --stage mql (SQL)"])
        results = {name: median_ms(engine, work, args.repeat) for name, (work, _) in queries.items()}
        base = results["baseline (PK scan)"]
        print(f"median of {args.repeat}, LIMIT {n}:")
        for name, ms in results.items():
            print(
                f"  {name:22s} {ms:8.3f} ms   ratio {ms / base:6.2f}x baseline   plan: {plan(engine, queries[name][1])}"
            )
        engine.dispose()


if __name__ == "__main__":
    main()
