"""send_drop's rules with the dev outbox sender, on SQLite and PostgreSQL: suppression, the minimum gap across
journeys (also under concurrency), idempotent retries, effectively once after a crash, and what gets rendered."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from temporalio.exceptions import ApplicationError

from activities.email import OutboxSender, OutgoingEmail
from activities.journey import JourneyActivities
from nurture import sendgrid_args, tokens
from nurture.db import Contact, OutboxEmail, Touch
from nurture.db.engine import session_scope
from nurture.outbound.evidence import Evidence, settle_by_evidence
from tests.activities.helpers import DAY, GAP, T0, TRACKING_SECRET, add_contact, drop, outbox_activities
from workflows.dsl import Catalog, ContentItem, register_catalog

LINKED = register_catalog(
    "tests-activities",
    Catalog(
        (
            ContentItem(
                id="test-linked-guide",
                subject="A guide for $company",
                body="Hi $first_name,\n\nThe guide: https://ledgerline.example/guide?utm=drip.\nAnd the "
                "checklist https://ledgerline.example/checklist too.\n\nSee you.",
            ),
        )
    ),
)


def touches(engine: Engine, contact_id: int) -> list[Touch]:
    with session_scope(engine) as s:
        return list(s.exec(select(Touch).where(Touch.contact_id == contact_id).order_by(Touch.id)).all())


def outbox(engine: Engine) -> list[OutboxEmail]:
    with session_scope(engine) as s:
        return list(s.exec(select(OutboxEmail)).all())


def test_suppressed_contact_is_not_sent_and_the_decision_is_recorded(engine: Engine) -> None:
    cid = add_contact(engine, status="suppressed", suppressed_reason="unsubscribe")
    with outbox_activities(engine) as acts:
        result = acts.send_drop(drop(cid))
    assert result.status == "suppressed"
    assert "unsubscribe" in result.detail
    assert outbox(engine) == []
    assert [t.status for t in touches(engine, cid)] == ["suppressed"]


def test_erased_contact_counts_as_suppressed(engine: Engine) -> None:
    with outbox_activities(engine) as acts:
        assert acts.send_drop(drop(424242)).status == "suppressed"
    assert outbox(engine) == []


def test_minimum_gap_holds_across_journeys_and_uses_workflow_time(engine: Engine) -> None:
    cid = add_contact(engine)
    b2b = drop(cid, "b2b-approval-costs", journey="b2b_drip", now=T0)
    b2c_soon = drop(cid, "b2c-autumn-lawn", journey="b2c_cultivation", now=T0 + DAY)
    b2c_later = drop(cid, "b2c-autumn-lawn", journey="b2c_cultivation", now=T0 + 3 * DAY + timedelta(seconds=1))
    with outbox_activities(engine) as acts:
        assert acts.send_drop(b2b).status == "sent"
        assert acts.send_drop(b2b).status == "sent"  # its own retry is not held back by itself
        deferred = acts.send_drop(b2c_soon)
        later = acts.send_drop(b2c_later)

    assert deferred.status == "deferred"
    assert deferred.deferred_until == T0 + timedelta(seconds=GAP)
    assert deferred.touch_id is None
    assert deferred.detail.startswith("minimum gap: last drop at ")  # names the rule that blocked it
    assert later.status == "sent"
    assert [(t.journey, t.status, t.sent_at) for t in touches(engine, cid)] == [
        ("b2b_drip", "sent", T0),
        ("b2c_cultivation", "sent", b2c_later.now),
    ]
    assert len(outbox(engine)) == 2


def test_a_transactional_email_does_not_hold_back_the_first_drop(engine: Engine) -> None:
    cid = add_contact(engine)
    with session_scope(engine) as s:  # the double opt-in confirmation, minutes before the journey starts
        s.add(
            Touch(
                idempotency_key=f"confirm/contact-{cid}",
                contact_id=cid,
                journey="opt_in",
                workflow_id="",
                step="confirm subscription",
                item_id="confirm-subscription",
                channel="transactional",
                sender="outbox",
                status="sent",
                created_at=T0 - timedelta(minutes=5),
                sent_at=T0 - timedelta(minutes=5),
            )
        )
    with outbox_activities(engine) as acts:
        assert acts.send_drop(drop(cid)).status == "sent"


def test_two_journeys_sending_at_the_same_moment_send_once(engine: Engine) -> None:
    cid = add_contact(engine)
    inputs = [
        drop(cid, "b2b-approval-costs", journey="b2b_drip"),
        drop(cid, "b2c-autumn-lawn", journey="b2c_cultivation"),
    ]
    results: list[str] = []
    start = threading.Barrier(len(inputs))
    with outbox_activities(engine) as acts:

        def run(i: int) -> None:
            start.wait()
            results.append(acts.send_drop(inputs[i]).status)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(inputs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(results) == ["deferred", "sent"]
    assert len(outbox(engine)) == 1


def test_retry_after_success_replays_the_result_without_sending(engine: Engine) -> None:
    cid = add_contact(engine)
    with outbox_activities(engine) as acts:
        first = acts.send_drop(drop(cid))
        again = acts.send_drop(drop(cid, now=T0 + timedelta(minutes=5)))
    assert first.status == again.status == "sent"
    assert (again.touch_id, again.message_id) == (first.touch_id, first.message_id)
    assert len(outbox(engine)) == 1


class CrashingSender:
    """The worker dies mid-call: the provider may or may not have the message."""

    name = "outbox"

    def __init__(self) -> None:
        self.calls = 0

    def send(self, email: OutgoingEmail) -> str | None:
        self.calls += 1
        raise RuntimeError("worker lost mid-call")


# Wide enough that a loaded CI machine still checks "within the window" before it ends.
WINDOW_SECONDS = 3.0
WINDOW = {"send_evidence_window": timedelta(seconds=WINDOW_SECONDS), "sendgrid_timeout_seconds": 0.1}


def awaiting_evidence(acts: JourneyActivities, cid: int) -> ApplicationError:
    with pytest.raises(ApplicationError) as raised:
        acts.send_drop(drop(cid))
    assert raised.value.type == "AwaitingEvidence" and not raised.value.non_retryable
    assert raised.value.next_retry_delay is not None
    assert timedelta(0) < raised.value.next_retry_delay <= timedelta(seconds=WINDOW_SECONDS)
    return raised.value


def test_a_claim_left_sending_by_a_crash_waits_for_evidence_then_is_sent_once_more(engine: Engine) -> None:
    cid = add_contact(engine)
    crashing = CrashingSender()
    with outbox_activities(engine, sender=crashing, **WINDOW) as acts, pytest.raises(RuntimeError):
        acts.send_drop(drop(cid))
    assert [t.status for t in touches(engine, cid)] == ["sending"]

    with outbox_activities(engine, **WINDOW) as acts:
        awaiting_evidence(acts, cid)  # within the window: the provider may still report it
        assert outbox(engine) == []
        time.sleep(WINDOW_SECONDS + 0.2)  # the window passes with no event: the provider never took it
        resent = acts.send_drop(drop(cid))
        again = acts.send_drop(drop(cid))
    assert crashing.calls == 1
    assert resent.status == again.status == "sent"
    assert len(outbox(engine)) == 1  # sent once more, and only once
    [touch] = touches(engine, cid)
    assert (touch.status, touch.attempts, touch.sent_at) == ("sent", 2, T0)


def test_a_claim_left_sending_is_settled_sent_by_the_providers_event_and_not_resent(engine: Engine) -> None:
    cid = add_contact(engine)
    crashing = CrashingSender()
    with outbox_activities(engine, sender=crashing, **WINDOW) as acts, pytest.raises(RuntimeError):
        acts.send_drop(drop(cid))
    [touch] = touches(engine, cid)
    assert touch.id is not None
    with engine.begin() as conn:
        assert settle_by_evidence(conn, [Evidence(touch.id, T0, cid, "sg-msg-1")]) == [touch.id]
    with outbox_activities(engine, **WINDOW) as acts:
        time.sleep(WINDOW_SECONDS + 0.2)
        settled = acts.send_drop(drop(cid))
    assert (settled.status, settled.message_id) == ("sent", "sg-msg-1")
    assert outbox(engine) == []  # the evidence said it went: never sent again
    with outbox_activities(engine) as acts:  # and it counts for the gap
        assert acts.send_drop(drop(cid, "b2b-einvoicing-primer", now=T0 + DAY)).status == "deferred"


def test_evidence_never_changes_a_settled_touch_or_another_contacts(engine: Engine) -> None:
    cid, other = add_contact(engine), add_contact(engine, "bob@example.com")
    with outbox_activities(engine) as acts:
        sent = acts.send_drop(drop(cid))
    assert sent.touch_id is not None
    with engine.begin() as conn:
        assert settle_by_evidence(conn, [Evidence(sent.touch_id, T0, cid, "other-id")]) == []
        assert settle_by_evidence(conn, [Evidence(sent.touch_id, T0, other, None)]) == []
    [touch] = touches(engine, cid)
    assert touch.message_id == sent.message_id


def test_unknown_item_fails_without_sending(engine: Engine) -> None:
    cid = add_contact(engine)
    with outbox_activities(engine) as acts:
        result = acts.send_drop(drop(cid, "no-such-item"))
    assert result.status == "failed"
    assert outbox(engine) == []


def test_a_successful_send_clears_the_last_send_error(engine: Engine) -> None:
    cid = add_contact(engine, last_send_error="SendGrid 400: bad address")
    with outbox_activities(engine) as acts:
        assert acts.send_drop(drop(cid)).status == "sent"
    with session_scope(engine) as s:
        contact = s.get(Contact, cid)
        assert contact is not None
        assert contact.last_send_error is None


def test_outbox_email_is_personalised_with_signed_tracking_links_pixel_and_unsubscribe(engine: Engine) -> None:
    cid = add_contact(engine, first_name="Ada", company="https://acme.example")
    with outbox_activities(engine) as acts:
        result = acts.send_drop(drop(cid, "test-linked-guide", journey="b2b_drip"))
    assert result.status == "sent"
    [email] = outbox(engine)
    assert result.message_id == f"outbox-{email.id}"
    assert email.touch_id == result.touch_id
    assert email.subject == "A guide for https://acme.example"  # the contact's own text is never rewritten
    ids = {"contact_id": str(cid), "touch_id": str(result.touch_id), "item_id": "test-linked-guide"}

    clicks = re.findall(r"https://go\.nurture\.test/t/c/([\w-]+\.[\w-]+)", email.text)
    assert [tokens.verify(TRACKING_SECRET, "click", t) for t in clicks] == [
        {**ids, "url": "https://ledgerline.example/guide?utm=drip"},
        {**ids, "url": "https://ledgerline.example/checklist"},
    ]
    assert "https://ledgerline.example/guide" not in email.text  # only tracked links in the body
    assert "Hi Ada," in email.text
    [pixel] = re.findall(r'src="https://go\.nurture\.test/t/o/([\w-]+\.[\w-]+)\.gif"', email.html)
    assert tokens.verify(TRACKING_SECRET, "open", pixel) == ids
    assert email.html.count("/t/c/") == 2
    assert '<a href="https://go.nurture.test/t/c/' in email.html
    assert ">https://ledgerline.example/checklist</a>" in email.html

    unsubscribe = email.headers["List-Unsubscribe"][1:-1]
    assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe in email.text
    assert unsubscribe in email.html
    token = unsubscribe.rsplit("/u/", 1)[1]
    assert tokens.verify(TRACKING_SECRET, "unsubscribe", token) == {
        "contact_id": str(cid),
        "touch_id": str(result.touch_id),
    }
    assert email.custom_args == {
        sendgrid_args.CUSTOM_ARG_CONTACT: str(cid),
        sendgrid_args.CUSTOM_ARG_JOURNEY: "b2b_drip",
        sendgrid_args.CUSTOM_ARG_ITEM: "test-linked-guide",
        sendgrid_args.CUSTOM_ARG_TOUCH: str(result.touch_id),
    }


def test_outbox_sender_stores_once_per_touch(engine: Engine) -> None:
    cid = add_contact(engine)
    with outbox_activities(engine) as acts:
        touch_id = acts.send_drop(drop(cid)).touch_id
    assert touch_id is not None
    [stored] = outbox(engine)
    again = OutgoingEmail(touch_id, "ada@example.com", "", "a@b.example", "", "s", "<p>h</p>", "t", T0)
    assert OutboxSender(engine).send(again) == f"outbox-{stored.id}"
    assert len(outbox(engine)) == 1


def test_an_item_another_journey_already_sent_is_never_sent_again(engine: Engine) -> None:
    """The same broadcast item offered by two journeys of one contact reaches the contact once."""
    cid = add_contact(engine)
    first = drop(cid, "bc-einvoicing-2027", journey="b2b_drip", now=T0, broadcast_id="reg-1")
    second = drop(cid, "bc-einvoicing-2027", journey="b2c_cultivation", now=T0 + 5 * DAY, broadcast_id="reg-1")
    with outbox_activities(engine) as acts:
        assert acts.send_drop(first).status == "sent"
        again = acts.send_drop(second)
    assert again.status == "duplicate"
    assert "already sent to this contact by b2b_drip" in again.detail
    assert [(t.journey, t.status) for t in touches(engine, cid)] == [("b2b_drip", "sent")]
    assert len(outbox(engine)) == 1
