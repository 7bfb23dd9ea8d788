"""What one poll of a broadcast's backpressure costs at size: counting every report vs asking about the window.

    python -m bench.window_poll [--rows 1000000] [--window 256] [--repeat 7]

A fresh PostgreSQL database gets one broadcast with `--rows` BroadcastDelivery rows (generated inside
PostgreSQL). Then the median of `--repeat` runs of each question, in a session as the activity opens one:
the old poll (`store.outcome_counts`, every report of the broadcast by outcome: what the window asked every 0.2 s
until December 2026) and the new one (`store.reported_among`, which of `--window` ids have reported). The first
grows with the broadcast; the second should not.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bench.harness import fresh_database
from nurture.broadcasts.store import outcome_counts, reported_among
from nurture.db.engine import make_engine, migrate, session_scope

SEED = """
INSERT INTO contact (email, first_name, last_name, company, persona, time_zone, topics, status, consent_source,
                     created_at, updated_at)
VALUES ('window@example.com', 'W', '', 'Bench Ltd', 'finance-lead', 'UTC', '[]', 'active', 'bench', now(), now());
INSERT INTO broadcast (id, kind, item_id, audience, audience_query, rate_per_second, state, created_by, created_at,
                       counts, topics)
VALUES ('big', 'regulation', 'x', '{}', '', 500, 'running', 'bench', now(), '{}', '[]');
INSERT INTO broadcastdelivery (broadcast_id, workflow_id, contact_id, outcome, reason, at)
SELECT 'big', 'journey/b2b_drip/contact-' || g, (SELECT id FROM contact), 'dropped', 'sent x', now()
FROM generate_series(1, %(rows)s) g;
"""


def median_ms(engine: Engine, ask: Callable[[Session], int], repeat: int) -> tuple[float, int]:
    times, answer = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        with session_scope(engine) as session:
            answer = ask(session)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--window", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url, drop = fresh_database("postgresql", Path(tmp))
        try:
            migrate(url)
            engine = make_engine(url)
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(SEED.replace("%(rows)s", str(int(args.rows))))
                conn.execute("VACUUM ANALYZE broadcastdelivery")
            # the window: ids near the end of the broadcast, most of them reported
            last = args.rows
            ids = [f"journey/b2b_drip/contact-{i}" for i in range(last - args.window + 56, last + 56)]
            old, total = median_ms(engine, lambda s: sum(outcome_counts(s, "big").values()), args.repeat)
            new, heard = median_ms(engine, lambda s: len(reported_among(s, "big", ids)), args.repeat)
            print(f"{args.rows:,} reports, a window of {len(ids)} ids, median of {args.repeat}:")
            print(f"  count every report (the old poll)      {old:8.1f} ms  ({total:,} reports)")
            print(f"  which of the window reported (new)     {new:8.1f} ms  ({heard} of {len(ids)})")
            print(f"  ratio old / new: {old / new:.0f}x")
            engine.dispose()
        finally:
            drop()


if __name__ == "__main__":
    main()
