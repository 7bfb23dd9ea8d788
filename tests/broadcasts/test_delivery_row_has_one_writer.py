"""A journey's outcome for a broadcast is one `BroadcastDelivery` row, written by one statement
(`nurture.broadcasts.store.record_outcome`, run in the transaction that settles the drop): the first report
inserts it, a later one for the same (broadcast, workflow) updates it, and a report for a broadcast that does
not exist writes nothing and says so. The broadcast's own skips never overwrite a journey's report. The
fan-out's window reads them back by id. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import select

from nurture.broadcasts.store import outcome_counts, record_outcome, record_skips, reported_among
from nurture.clock import utcnow
from nurture.db import Broadcast, BroadcastDelivery
from nurture.db.engine import session_scope
from tests.activities.helpers import add_contact


def test_insert_then_update_and_unknown_broadcast_writes_nothing(engine: Engine) -> None:
    cid = add_contact(engine, email="delivery@example.com")
    t0 = utcnow()
    with session_scope(engine) as s:
        s.add(Broadcast(id="bc-1", kind="announcement", item_id="x", created_by="test", created_at=t0))
    with engine.begin() as conn:
        assert record_outcome(conn, "bc-1", "journey/a/contact-1", cid, "deferred", "quiet time", t0)
    later = t0 + timedelta(hours=3)
    with engine.begin() as conn:
        assert record_outcome(conn, "bc-1", "journey/a/contact-1", cid, "dropped", "sent x", later)
        assert not record_outcome(conn, "bc-nope", "journey/a/contact-1", cid, "dropped", "sent x", later)
    with session_scope(engine) as s:
        rows = s.exec(select(BroadcastDelivery)).all()
        assert [(r.broadcast_id, r.outcome, r.reason, r.at) for r in rows] == [("bc-1", "dropped", "sent x", later)]
        assert outcome_counts(s, "bc-1")["dropped"] == 1
        assert outcome_counts(s, "bc-1")["deferred"] == 0
        # what the fan-out's report window asks: which of these ids reported (batched past 500 ids)
        asked = [f"journey/a/contact-{i}" for i in range(1, 1200)]
        assert reported_among(s, "bc-1", asked) == {"journey/a/contact-1"}
        assert reported_among(s, "bc-nope", asked) == set()
    # the broadcast's own skips never overwrite what a journey reported, and a repeat changes nothing
    # (contact-2 twice: a second writer of one row in one call, as a racing report would be, is decided by the index)
    skips = [
        ("journey/a/contact-1", cid, "contact suppressed"),
        ("journey/a/contact-2", cid, "contact suppressed"),
        ("journey/a/contact-2", cid, "contact suppressed"),
    ]
    for _ in range(2):
        with session_scope(engine) as s:
            record_skips(s, "bc-1", skips, later)
    with session_scope(engine) as s:
        rows = s.exec(select(BroadcastDelivery).order_by(BroadcastDelivery.workflow_id)).all()
        assert [(r.workflow_id, r.outcome) for r in rows] == [
            ("journey/a/contact-1", "dropped"),
            ("journey/a/contact-2", "skipped"),
        ]
