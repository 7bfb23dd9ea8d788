"""A handoff routes the lead: owner on the handoff row and in the signed CRM payload; stages follow verdicts."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.engine import Engine

from nurture.db.tables import SIGNAL_OUTBOX
from nurture.inbound.outbox import ENROLL
from nurture.inbound.sales import record_verdict
from nurture.lifecycle.routing import OwnerSpec, upsert_owner
from nurture.lifecycle.stages import stage_history
from tests.activities.helpers import T0, add_contact, outbox_activities
from tests.activities.receiver import Receiver
from tests.activities.test_handoff import SECRET, handoff_input, handoffs
from workflows.payloads import SalesFeedbackInput


@pytest.fixture
def crm() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


def test_handoff_routes_to_an_owner_named_on_the_row_and_in_the_signed_payload(engine: Engine, crm: Receiver) -> None:
    cid = add_contact(engine)
    with engine.begin() as conn:
        owner_id = upsert_owner(conn, OwnerSpec("amy", "americas", name="Amy Rep", email="amy@crm.test"), T0)
    settings = {"crm_webhook_url": f"{crm.url}/leads", "crm_webhook_secret": SecretStr(SECRET)}
    with outbox_activities(engine, **settings) as acts:
        result = acts.hand_off_to_sales(handoff_input(cid))
    [row] = handoffs(engine)
    assert row.id == result.handoff_id and row.owner_id == owner_id
    [request] = crm.received
    body = json.loads(request.body)
    assert body["owner"] == {
        "key": "amy",
        "name": "Amy Rep",
        "email": "amy@crm.test",
        "team": "americas",
        "time_zone": "UTC",
    }
    with engine.begin() as conn:
        assert record_verdict(conn, result.handoff_id, False, "budget next year", T0).queued
        history = stage_history(conn, cid)
    assert [(h.to_stage, h.actor_kind) for h in history] == [
        ("subscriber", "opt_in"),
        ("mql", "journey_step"),
        ("recycled", "sales_verdict"),
    ]
    assert history[-1].why == "budget next year" and history[-1].actor_id == f"handoff-{result.handoff_id}"


def test_unanswered_handoff_recycles_and_a_requalified_lead_keeps_its_owner(engine: Engine) -> None:
    cid = add_contact(engine)
    with engine.begin() as conn:
        upsert_owner(conn, OwnerSpec("amy", "americas"), T0)
        upsert_owner(conn, OwnerSpec("bob", "americas"), T0)
    with outbox_activities(engine) as acts:
        first = acts.hand_off_to_sales(handoff_input(cid))
        acts.record_sales_feedback(
            SalesFeedbackInput(first.handoff_id, None, "no feedback from sales within 5 days", T0)
        )
        second = acts.hand_off_to_sales(handoff_input(cid, attempt=2))
        with engine.begin() as conn:
            assert record_verdict(conn, second.handoff_id, True, "call booked", T0).queued
    rows = handoffs(engine)
    assert rows[0].owner_id == rows[1].owner_id is not None  # the returning lead keeps its owner
    with engine.begin() as conn:
        stages = [(h.from_stage, h.to_stage, h.actor_kind) for h in stage_history(conn, cid)][1:]
    assert stages == [
        ("subscriber", "mql", "journey_step"),
        ("mql", "recycled", "journey_step"),
        ("recycled", "mql", "journey_step"),
        ("mql", "sal", "sales_verdict"),
        ("sal", "customer", "sales_verdict"),
    ]
    with engine.connect() as conn:
        queued = conn.execute(
            select(SIGNAL_OUTBOX.c.journey, SIGNAL_OUTBOX.c.signal).order_by(SIGNAL_OUTBOX.c.id)
        ).all()
    assert [tuple(q) for q in queued][-1] == ("customer_care", ENROLL), "acceptance enrolls the customer journey"


@pytest.mark.parametrize("accepted", [True, False])
def test_a_verdict_the_journey_heard_directly_moves_the_stage_once(engine: Engine, accepted: bool) -> None:
    """A signal straight to the journey (no door) reaches the verdict writer through the journey's activity: the
    stage moves as if the CRM had called the door, and the door's same verdict afterwards moves nothing again."""
    cid = add_contact(engine)
    with outbox_activities(engine) as acts:
        handoff = acts.hand_off_to_sales(handoff_input(cid))
        acts.record_sales_feedback(SalesFeedbackInput(handoff.handoff_id, accepted, "heard on the phone", T0))
    with engine.begin() as conn:
        assert not record_verdict(conn, handoff.handoff_id, accepted, "heard on the phone", T0).queued
        stages = [(h.to_stage, h.actor_kind, h.actor_id, h.why) for h in stage_history(conn, cid)][2:]
        queued = [tuple(q) for q in conn.execute(select(SIGNAL_OUTBOX.c.journey, SIGNAL_OUTBOX.c.signal)).all()]
    actor = f"handoff-{handoff.handoff_id}"
    if accepted:
        assert stages == [
            ("sal", "sales_verdict", actor, "heard on the phone"),
            ("customer", "sales_verdict", actor, "accepted by sales: heard on the phone"),
        ]
        assert queued.count(("customer_care", ENROLL)) == 1
    else:
        assert stages == [("recycled", "sales_verdict", actor, "heard on the phone")]
        assert ("customer_care", ENROLL) not in queued
