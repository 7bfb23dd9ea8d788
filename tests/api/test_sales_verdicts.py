"""Sales verdicts, as every door records them (nurture.inbound.sales), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from nurture import temporal_names, workflow_ids
from nurture.clock import utcnow
from nurture.db import Handoff
from nurture.db.engine import session_scope
from nurture.inbound.sales import UnknownHandoffError, VerdictRefusedError, open_handoff, record_verdict
from tests.api.payloads import add_contact
from tests.fixtures.api import ServedApi


def _handoff(engine: Engine, contact_id: int, attempt: int, **fields: object) -> int:
    with session_scope(engine) as s:
        row = Handoff(
            idempotency_key=f"test:{contact_id}:{attempt}",
            contact_id=contact_id,
            journey="b2b_drip",
            workflow_id=workflow_ids.journey_workflow_id("b2b_drip", contact_id),
            score=50.0,
            reason="test",
            created_at=utcnow(),
            **fields,
        )
        s.add(row)
        s.flush()
        assert row.id is not None
        return row.id


def test_the_first_verdict_wins_and_is_queued_once_naming_its_handoff(api: ServedApi, engine: Engine) -> None:
    cid = add_contact(engine, "sam@example.com", journeys=("b2b_drip",))
    timed_out = _handoff(engine, cid, 1, feedback_at=utcnow(), feedback_reason="no feedback within 2w")
    waiting = _handoff(engine, cid, 2)
    now = utcnow()

    with engine.begin() as conn:
        assert open_handoff(conn, cid, "b2b_drip") == waiting
        first = record_verdict(conn, waiting, False, "no budget", now)
        again = record_verdict(conn, waiting, False, "no budget", now)
        with pytest.raises(VerdictRefusedError, match="already rejected"):
            record_verdict(conn, waiting, True, "changed our mind", now)
        with pytest.raises(VerdictRefusedError, match="timed out"):
            record_verdict(conn, timed_out, True, "too late", now)
        with pytest.raises(UnknownHandoffError):
            record_verdict(conn, 987654, True, "", now)
        assert open_handoff(conn, cid, None) is None

    assert (first.queued, again.queued, first.status) == (True, False, "rejected")
    signals = [o for o in api.outbox(contact_id=cid) if o.signal == temporal_names.SIGNAL_SALES_FEEDBACK]
    assert [o.payload for o in signals] == [{"accepted": False, "reason": "no budget", "handoff_id": waiting}]
