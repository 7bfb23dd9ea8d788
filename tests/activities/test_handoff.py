"""Handoff to sales against a real local HTTP server standing in for the CRM, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import select
from temporalio.exceptions import ApplicationError

from activities.handoff import SalesHandoff
from nurture.db import Handoff
from nurture.db.engine import session_scope
from nurture.verdicts import take_verdict
from tests.activities.helpers import DAY, T0, add_contact, add_event, drop, outbox_activities, outbox_settings
from tests.activities.receiver import Receiver
from workflows.payloads import HandoffInput, SalesFeedbackInput

SECRET = "crm-shared-secret-for-tests"


@pytest.fixture
def crm() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


def handoff_input(contact_id: int, attempt: int = 1) -> HandoffInput:
    return HandoffInput(
        contact_id=contact_id,
        journey="b2b_drip",
        workflow_id=f"journey/b2b_drip/contact-{contact_id}",
        attempt=attempt,
        score=52.5,
        reason="qualified by lead score",
        now=T0,
    )


def handoffs(engine: Engine) -> list[Handoff]:
    with session_scope(engine) as s:
        return list(s.exec(select(Handoff)).all())


def engaged_contact(engine: Engine) -> int:
    cid = add_contact(engine, first_name="Ada", last_name="Lovelace", company="Acme Ltd")
    with outbox_activities(engine) as acts:
        assert acts.send_drop(drop(cid, now=T0 - 10 * DAY)).status == "sent"
    for n in range(12):
        add_event(engine, cid, "page_view", T0 - (12 - n) * 0.5 * DAY, url=f"https://ledgerline.example/pricing?v={n}")
    add_event(engine, cid, "opened", T0 - DAY, machine=True)
    return cid


def test_handoff_posts_signed_context_to_the_crm_once_and_keeps_pii_out_of_the_result(
    engine: Engine, crm: Receiver
) -> None:
    cid = engaged_contact(engine)
    settings = {"crm_webhook_url": f"{crm.url}/leads", "crm_webhook_secret": SecretStr(SECRET)}
    with outbox_activities(engine, **settings) as acts:
        result = acts.hand_off_to_sales(handoff_input(cid))
        again = acts.hand_off_to_sales(handoff_input(cid))

    assert result.delivered
    assert (again.handoff_id, again.delivered) == (result.handoff_id, True)
    [request] = crm.received  # the retry found it delivered and did not post again
    assert request.path == "/leads"
    expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Nurture-Signature"] == expected
    assert request.headers["Idempotency-Key"] == f"journey/b2b_drip/contact-{cid}:handoff:1"
    body = json.loads(request.body)
    assert int(request.headers["X-Nurture-Timestamp"]) == int(datetime.fromisoformat(body["sent_at"]).timestamp())
    assert body["handoff_id"] == result.handoff_id
    context = body["context"]
    assert context["contact"]["email"] == "ada@example.com"  # the CRM needs to reach the lead
    assert context["why"] == "qualified by lead score"
    assert len(context["recent_engagement"]) == 10  # the latest ten, newest first, machine opens left out
    assert context["recent_engagement"][0]["url"] == "https://ledgerline.example/pricing?v=11"
    assert context["recent_engagement"][0]["summary"] == "viewed https://ledgerline.example/pricing?v=11"
    assert context["engagement_counts"] == {"page_view": 12}
    assert [t["item_id"] for t in context["touches"]] == ["b2b-approval-costs"]
    assert context["score"]["explanation"][0]["kind"] == "pricing page"
    for text in ("ada@example.com", "Ada", "Lovelace", "Acme"):
        assert text not in repr(result)
        assert text not in repr(again)
    [row] = handoffs(engine)
    assert (row.status, row.delivered_at, row.context) == ("delivered", T0, context)


def test_crm_outage_raises_for_temporal_to_retry_with_the_same_idempotency_key(engine: Engine, crm: Receiver) -> None:
    cid = add_contact(engine)
    crm.answer_next(503)
    settings = {"crm_webhook_url": crm.url, "crm_webhook_secret": SecretStr(SECRET)}
    with outbox_activities(engine, **settings) as acts:
        with pytest.raises(ApplicationError) as raised:
            acts.hand_off_to_sales(handoff_input(cid))
        assert not raised.value.non_retryable
        [pending] = handoffs(engine)
        assert (pending.status, pending.crm_response) == ("pending", 'HTTP 503: {"error": "nope"}')
        result = acts.hand_off_to_sales(handoff_input(cid))
    assert result.delivered
    assert len(handoffs(engine)) == 1
    assert [r.headers["Idempotency-Key"] for r in crm.received] == [f"journey/b2b_drip/contact-{cid}:handoff:1"] * 2


def test_crm_refusal_is_recorded_not_retried(engine: Engine, crm: Receiver) -> None:
    cid = add_contact(engine)
    crm.answer_next(422)
    settings = {"crm_webhook_url": crm.url, "crm_webhook_secret": SecretStr(SECRET)}
    with outbox_activities(engine, **settings) as acts:
        result = acts.hand_off_to_sales(handoff_input(cid))
    assert not result.delivered
    assert "422" in result.detail
    [row] = handoffs(engine)
    assert (row.status, row.crm_response) == ("pending", 'HTTP 422: {"error": "nope"}')


def test_unreachable_crm_raises_retryable(engine: Engine, crm: Receiver) -> None:
    cid = add_contact(engine)
    settings = {"crm_webhook_url": "http://127.0.0.1:9/leads", "crm_webhook_secret": SecretStr(SECRET)}
    with outbox_activities(engine, **settings) as acts, pytest.raises(ApplicationError, match="unreachable"):
        acts.hand_off_to_sales(handoff_input(cid))
    assert handoffs(engine)[0].crm_response == "unreachable: ConnectError"


def test_without_a_crm_the_handoff_is_recorded_once_per_attempt(engine: Engine) -> None:
    cid = add_contact(engine)
    with outbox_activities(engine) as acts:
        first = acts.hand_off_to_sales(handoff_input(cid, attempt=1))
        retry = acts.hand_off_to_sales(handoff_input(cid, attempt=1))
        second = acts.hand_off_to_sales(handoff_input(cid, attempt=2))
    assert not first.delivered
    assert retry.handoff_id == first.handoff_id
    assert second.handoff_id != first.handoff_id
    assert [h.status for h in handoffs(engine)] == ["pending", "pending"]


def test_sales_feedback_is_recorded_on_the_handoff(engine: Engine) -> None:
    cid = add_contact(engine)
    with outbox_activities(engine) as acts:
        first = acts.hand_off_to_sales(handoff_input(cid, attempt=1)).handoff_id
        second = acts.hand_off_to_sales(handoff_input(cid, attempt=2)).handoff_id
        acts.record_sales_feedback(SalesFeedbackInput(first, False, "no budget until Q3", T0 + DAY))
        acts.record_sales_feedback(SalesFeedbackInput(second, None, "no feedback within 2w", T0 + 2 * DAY))
        acts.record_sales_feedback(SalesFeedbackInput(0, True, "unknown handoff is ignored", T0))
    rows = {h.id: h for h in handoffs(engine)}
    assert (rows[first].status, rows[first].feedback_reason, rows[first].feedback_at) == (
        "rejected",
        "no budget until Q3",
        T0 + DAY,
    )
    assert (rows[second].status, rows[second].feedback_reason) == ("pending", "no feedback within 2w")


def test_a_verdict_the_crm_stored_first_wins_over_the_journeys_timeout(engine: Engine) -> None:
    cid = add_contact(engine)
    with outbox_activities(engine) as acts:
        answered = acts.hand_off_to_sales(handoff_input(cid, attempt=1)).handoff_id
        silent = acts.hand_off_to_sales(handoff_input(cid, attempt=2)).handoff_id
        with session_scope(engine) as s:  # what POST /handoffs/{id}/feedback writes, just before the timeout
            row = s.get(Handoff, answered)
            assert row is not None
            row.status, row.feedback_reason, row.feedback_at = "accepted", "demo booked", T0 + DAY

        stored = acts.record_sales_feedback(SalesFeedbackInput(answered, None, "no feedback within 2w", T0 + DAY))
        timed_out = acts.record_sales_feedback(SalesFeedbackInput(silent, None, "no feedback within 2w", T0 + DAY))

    assert stored == {"verdict": "accepted", "reason": "demo booked"}
    assert timed_out is None
    rows = {h.id: h for h in handoffs(engine)}
    assert (rows[answered].status, rows[answered].feedback_reason) == ("accepted", "demo booked")
    assert (rows[silent].status, rows[silent].feedback_reason) == ("pending", "no feedback within 2w")


def test_a_crm_url_without_a_secret_is_refused_at_start(engine: Engine) -> None:
    with httpx.Client() as http, pytest.raises(ValueError, match="CRM_WEBHOOK_SECRET"):
        SalesHandoff(outbox_settings(crm_webhook_url="http://crm.example/leads"), engine, http)


def test_a_verdict_the_journey_heard_never_overwrites_the_first_one_on_the_row(engine: Engine) -> None:
    cid = add_contact(engine)
    with outbox_activities(engine) as acts:
        answered = acts.hand_off_to_sales(handoff_input(cid, attempt=1)).handoff_id
        with engine.begin() as conn:  # the CRM's verdict, as POST /handoffs/{id}/feedback records it
            take_verdict(conn, answered, True, "demo booked", T0 + DAY)
        acts.record_sales_feedback(SalesFeedbackInput(answered, False, "a contradicting late signal", T0 + 2 * DAY))
        acts.record_sales_feedback(SalesFeedbackInput(answered, True, "the same verdict again", T0 + 3 * DAY))
    [row] = handoffs(engine)
    assert (row.status, row.feedback_reason, row.feedback_at) == ("accepted", "demo booked", T0 + DAY)
