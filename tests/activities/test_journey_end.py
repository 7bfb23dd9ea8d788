"""Ending journeys and recording broadcast outcomes, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from nurture.db import Broadcast, BroadcastDelivery, Contact, Enrollment, OutboxEmail
from nurture.db.engine import session_scope
from tests.activities.helpers import DAY, T0, add_contact, drop, enroll, outbox_activities
from workflows.payloads import BroadcastOutcomeInput, JourneyEndInput


def state(engine: Engine, contact_id: int, workflow_id: str) -> tuple[Contact, Enrollment]:
    with session_scope(engine) as s:
        contact = s.get(Contact, contact_id)
        enrollment = s.exec(select(Enrollment).where(Enrollment.workflow_id == workflow_id)).one()
    assert contact is not None
    return contact, enrollment


def end(contact_id: int, workflow_id: str, outcome: str) -> JourneyEndInput:
    return JourneyEndInput(contact_id, "b2b_drip", workflow_id, outcome, T0 + DAY)


@pytest.mark.parametrize("outcome", ["unsubscribe", "bounce", "complaint", "suppressed"])
def test_exit_outcomes_suppress_the_contact_with_the_reason(engine: Engine, outcome: str) -> None:
    cid = add_contact(engine)
    wf = enroll(engine, cid)
    with outbox_activities(engine) as acts:
        acts.end_journey(end(cid, wf, outcome))
    contact, enrollment = state(engine, cid, wf)
    assert (contact.status, contact.suppressed_reason, contact.suppressed_at) == ("suppressed", outcome, T0 + DAY)
    assert (enrollment.ended_at, enrollment.outcome) == (T0 + DAY, outcome)


def test_accepted_lead_becomes_a_customer_but_suppression_wins(engine: Engine) -> None:
    cid = add_contact(engine)
    wf = enroll(engine, cid)
    gone = add_contact(engine, "gone@example.com", status="suppressed", suppressed_reason="complaint")
    gone_wf = enroll(engine, gone)
    with outbox_activities(engine) as acts:
        acts.end_journey(end(cid, wf, "customer"))
        acts.end_journey(end(cid, wf, "customer"))  # a retry changes nothing
        acts.end_journey(end(gone, gone_wf, "customer"))
    assert state(engine, cid, wf)[0].status == "customer"
    contact, enrollment = state(engine, gone, gone_wf)
    assert (contact.status, contact.suppressed_reason) == ("suppressed", "complaint")
    assert enrollment.outcome == "customer"


def test_completed_journey_leaves_the_contact_active(engine: Engine) -> None:
    cid = add_contact(engine)
    wf = enroll(engine, cid)
    with outbox_activities(engine) as acts:
        acts.end_journey(end(cid, wf, "completed"))
    contact, enrollment = state(engine, cid, wf)
    assert contact.status == "active"
    assert enrollment.outcome == "completed"


def test_broadcast_outcome_is_one_row_per_journey_and_a_repeat_updates_it(engine: Engine) -> None:
    cid = add_contact(engine)
    wf = enroll(engine, cid)
    with session_scope(engine) as s:
        s.add(
            Broadcast(
                id="einvoicing-2027", kind="regulation", item_id="bc-einvoicing-2027", created_by="t", created_at=T0
            )
        )
    deferred = BroadcastOutcomeInput("einvoicing-2027", wf, cid, "deferred", "minimum gap", T0)
    dropped = BroadcastOutcomeInput("einvoicing-2027", wf, cid, "dropped", "sent bc-einvoicing-2027", T0 + DAY)
    with outbox_activities(engine) as acts:
        acts.record_broadcast_outcome(deferred)
        acts.record_broadcast_outcome(deferred)
        acts.record_broadcast_outcome(dropped)
        acts.record_broadcast_outcome(BroadcastOutcomeInput("no-such-broadcast", wf, cid, "skipped", "", T0))
    with session_scope(engine) as s:
        rows = s.exec(select(BroadcastDelivery)).all()
    assert [(r.broadcast_id, r.workflow_id, r.outcome, r.reason, r.at) for r in rows] == [
        ("einvoicing-2027", wf, "dropped", "sent bc-einvoicing-2027", T0 + DAY)
    ]


def test_a_broadcast_drop_sends_once_and_records_its_outcome_in_the_same_activity(engine: Engine) -> None:
    cid = add_contact(engine)
    wf = enroll(engine, cid)
    with session_scope(engine) as s:
        s.add(Broadcast(id="bc-1", kind="regulation", item_id="bc-einvoicing-2027", created_by="t", created_at=T0))
    inp = drop(cid, "bc-einvoicing-2027", broadcast_id="bc-1", step="broadcast bc-1", priority=None)
    with outbox_activities(engine) as acts:
        first = acts.drop_broadcast(inp)
        again = acts.drop_broadcast(inp)  # a local-activity retry after the send: same touch, same row
    assert first.status == "sent" and again.touch_id == first.touch_id
    with session_scope(engine) as s:
        rows = s.exec(select(BroadcastDelivery)).all()
        outbox = s.exec(select(OutboxEmail)).all()
    assert [(r.broadcast_id, r.workflow_id, r.outcome, r.reason) for r in rows] == [
        ("bc-1", wf, "dropped", "sent bc-einvoicing-2027")
    ]
    assert len(outbox) == 1, "sent once"


def test_a_broadcast_drop_held_back_by_the_gap_records_deferred_with_its_claim(engine: Engine) -> None:
    """The outcome row is written in the transaction that decides the result: here the claim's (no send)."""
    cid = add_contact(engine)
    enroll(engine, cid)
    with session_scope(engine) as s:
        s.add(Broadcast(id="bc-2", kind="regulation", item_id="bc-einvoicing-2027", created_by="t", created_at=T0))
    with outbox_activities(engine) as acts:
        assert acts.send_drop(drop(cid)).status == "sent"  # a scheduled drop just went out: the gap holds
        held = acts.drop_broadcast(drop(cid, "bc-einvoicing-2027", broadcast_id="bc-2", step="broadcast bc-2"))
    assert held.status == "deferred" and held.deferred_until is not None
    with session_scope(engine) as s:
        rows = s.exec(select(BroadcastDelivery)).all()
        outbox = s.exec(select(OutboxEmail)).all()
    assert [(r.broadcast_id, r.outcome) for r in rows] == [("bc-2", "deferred")]
    assert rows[0].reason.endswith(f"due {held.deferred_until.isoformat()}")
    assert len(outbox) == 1, "only the scheduled drop was sent"
