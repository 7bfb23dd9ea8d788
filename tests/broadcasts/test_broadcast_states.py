"""A broadcast's states have one definition (`nurture.broadcast_state`): every state the workflow sets is in it,
the audit row stores a failed broadcast as final, and a state outside it is refused (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from nurture.broadcast_state import FINAL_STATES, BroadcastState
from nurture.broadcasts.store import record_progress
from nurture.clock import utcnow
from nurture.db import Broadcast
from nurture.db.engine import session_scope

WORKFLOW = Path(__file__).resolve().parents[2] / "workflows" / "broadcast_workflow.py"


def test_every_state_the_workflow_sets_is_defined_and_final_states_are_states() -> None:
    assigned = set(re.findall(r"state(?:, c\.phase)? = \"(\w+)\"", WORKFLOW.read_text()))
    assert {"failed", "cancelled", "completed", "paused", "running"} <= assigned
    assert assigned <= {s.value for s in BroadcastState}
    assert {BroadcastState.COMPLETED, BroadcastState.CANCELLED, BroadcastState.FAILED} == FINAL_STATES


def _broadcast(engine: Engine, broadcast_id: str) -> None:
    with session_scope(engine) as s:
        s.add(Broadcast(id=broadcast_id, kind="announcement", item_id="x", created_by="test", created_at=utcnow()))


def test_a_failed_broadcast_is_stored_final_and_an_undefined_state_is_refused(engine: Engine) -> None:
    _broadcast(engine, "fails-once")
    with session_scope(engine) as s:
        record_progress(s, "fails-once", "failed", {"signalled": 3}, utcnow(), finished=True)
    with session_scope(engine) as s:
        row = s.get(Broadcast, "fails-once")
        assert row is not None
        assert (row.state, row.state in FINAL_STATES, row.finished_at is not None) == ("failed", True, True)
    with pytest.raises(ValueError, match="exploded"), session_scope(engine) as s:
        record_progress(s, "fails-once", "exploded", {}, utcnow(), finished=True)
    with session_scope(engine) as s:
        row = s.get(Broadcast, "fails-once")
        assert row is not None and row.state == BroadcastState.FAILED
