"""send_drop through the official SendGrid client talking HTTP to the fake SendGrid, on SQLite and PostgreSQL.

Proves: accepted drops store SendGrid's message id; refusals are recorded, not retried; 429/5xx/unreachable
raise a retryable error and the retry sends exactly once; a timeout waits for SendGrid's events, which settle
it as sent, and only without any event within the window is it sent once more.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from temporalio.exceptions import ApplicationError

from nurture import sendgrid_args, tokens
from nurture.clock import utcnow
from nurture.config import Settings
from nurture.db import Contact, Touch
from nurture.db.engine import session_scope
from nurture.fakes.sendgrid import FakeSendGrid
from nurture.inbound.sendgrid_events import parse_batch
from nurture.inbound.store import store_sendgrid_batch
from nurture.redaction import Redactor
from tests.activities.helpers import TRACKING_SECRET, add_contact, drop, journey_activities


def touch_for(engine: Engine, contact_id: int) -> Touch:
    with session_scope(engine) as s:
        rows = s.exec(select(Touch).where(Touch.contact_id == contact_id)).all()
    assert len(rows) == 1
    return rows[0]


def test_accepted_drop_stores_sendgrid_message_id_with_ids_and_one_click_unsubscribe(
    engine: Engine, sendgrid_settings: Settings, fake_sendgrid: FakeSendGrid
) -> None:
    cid = add_contact(engine, first_name="Ada", company="Acme Ltd")
    with journey_activities(sendgrid_settings, engine) as acts:
        result = acts.send_drop(drop(cid, broadcast_id=None))

    assert result.status == "sent"
    [msg] = fake_sendgrid.messages
    assert result.message_id == msg.message_id
    touch = touch_for(engine, cid)
    assert (touch.status, touch.message_id, touch.sender) == ("sent", msg.message_id, "sendgrid")
    assert touch.sent_at == drop(cid).now
    assert msg.recipients == ["ada@example.com"]
    assert msg.subject == "Five signs your approval workflow costs more than it should"
    assert "Hi Ada," in (msg.content("text/plain") or "")
    assert msg.custom_args == {
        sendgrid_args.CUSTOM_ARG_CONTACT: str(cid),
        sendgrid_args.CUSTOM_ARG_JOURNEY: "b2b_drip",
        sendgrid_args.CUSTOM_ARG_ITEM: "b2b-approval-costs",
        sendgrid_args.CUSTOM_ARG_TOUCH: str(touch.id),
    }
    headers = msg.mail_headers
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = headers["List-Unsubscribe"]
    assert unsubscribe.startswith("<https://go.nurture.test/u/")
    assert unsubscribe.endswith(">")
    token = unsubscribe.removeprefix("<https://go.nurture.test/u/").removesuffix(">")
    assert tokens.verify(TRACKING_SECRET, "unsubscribe", token) == {"contact_id": str(cid), "touch_id": str(touch.id)}
    assert unsubscribe[1:-1] in (msg.content("text/html") or "")  # and in the footer


def test_broadcast_drop_carries_the_broadcast_id(
    engine: Engine, sendgrid_settings: Settings, fake_sendgrid: FakeSendGrid
) -> None:
    cid = add_contact(engine)
    with journey_activities(sendgrid_settings, engine) as acts:
        result = acts.send_drop(drop(cid, "bc-einvoicing-2027", broadcast_id="einvoicing-2027", step="broadcast"))
    assert result.status == "sent"
    assert fake_sendgrid.messages[0].custom_args[sendgrid_args.CUSTOM_ARG_BROADCAST] == "einvoicing-2027"
    touch = touch_for(engine, cid)
    assert (touch.broadcast_id, touch.step) == ("einvoicing-2027", "broadcast")


@pytest.mark.parametrize("status", [400, 401, 403, 413])
def test_refused_drop_is_failed_on_touch_and_contact_and_never_retried(
    engine: Engine, sendgrid_settings: Settings, fake_sendgrid: FakeSendGrid, status: int
) -> None:
    cid = add_contact(engine)
    fake_sendgrid.fail_next(status)
    with journey_activities(sendgrid_settings, engine) as acts:
        result = acts.send_drop(drop(cid))
        again = acts.send_drop(drop(cid))  # a retry of the same drop replays the failure

    assert result.status == "failed"
    assert f"SendGrid {status}" in result.detail
    assert again.status == "failed"
    assert [r.status for r in fake_sendgrid.requests] == [status]
    assert fake_sendgrid.messages == []
    touch = touch_for(engine, cid)
    assert touch.status == "failed"
    assert f"SendGrid {status}" in (touch.error or "")
    with session_scope(engine) as s:
        contact = s.get(Contact, cid)
        assert contact is not None
        assert contact.last_send_error == touch.error


@pytest.mark.parametrize("status", [429, 500, 503])
def test_throttled_or_failing_sendgrid_raises_retryable_then_the_retry_sends_exactly_once(
    engine: Engine, sendgrid_settings: Settings, fake_sendgrid: FakeSendGrid, status: int
) -> None:
    cid = add_contact(engine)
    fake_sendgrid.fail_next(status, retry_after=20)
    with journey_activities(sendgrid_settings, engine) as acts:
        with pytest.raises(ApplicationError) as raised:
            acts.send_drop(drop(cid))
        assert not raised.value.non_retryable
        if status == 429:  # wait for SendGrid's X-RateLimit-Reset rather than the default backoff
            assert raised.value.next_retry_delay is not None
            assert timedelta(seconds=15) <= raised.value.next_retry_delay <= timedelta(seconds=22)
        assert touch_for(engine, cid).status == "retrying"
        retried = acts.send_drop(drop(cid))

    assert retried.status == "sent"
    assert [r.status for r in fake_sendgrid.requests] == [status, 202]
    assert len(fake_sendgrid.messages) == 1
    touch = touch_for(engine, cid)
    assert (touch.status, touch.message_id, touch.error) == ("sent", fake_sendgrid.messages[0].message_id, None)


def test_unreachable_sendgrid_releases_the_claim_so_the_retry_sends(
    engine: Engine, sendgrid_settings: Settings, fake_sendgrid: FakeSendGrid
) -> None:
    cid = add_contact(engine)
    with socket.socket() as probe:  # a loopback port nobody listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    unreachable = sendgrid_settings.model_copy(update={"sendgrid_host": f"http://127.0.0.1:{dead_port}"})
    with journey_activities(unreachable, engine) as acts, pytest.raises(ApplicationError, match="unreachable"):
        acts.send_drop(drop(cid))
    assert touch_for(engine, cid).status == "retrying"

    with journey_activities(sendgrid_settings, engine) as acts:
        assert acts.send_drop(drop(cid)).status == "sent"
    assert len(fake_sendgrid.messages) == 1


def test_timeout_waits_for_sendgrids_processed_event_and_is_settled_sent_without_a_second_send(
    engine: Engine, sendgrid_settings: Settings, fake_sendgrid: FakeSendGrid
) -> None:
    cid = add_contact(engine)
    fake_sendgrid.delay_next(1.5)  # longer than the client's 0.5 s timeout; the fake accepts anyway
    settings = sendgrid_settings.model_copy(update={"send_evidence_window": timedelta(seconds=1)})
    with journey_activities(settings, engine) as acts:
        with pytest.raises(ApplicationError) as raised:
            acts.send_drop(drop(cid))
        assert raised.value.type == "AwaitingEvidence"
        assert touch_for(engine, cid).status == "unconfirmed"
        wait_for(lambda: len(fake_sendgrid.messages) == 1)  # SendGrid did take it...
        [message] = fake_sendgrid.messages
        body = json.dumps(fake_sendgrid.events(message, "processed", "delivered")).encode()
        with engine.begin() as conn:  # ...and says so through the Event Webhook
            store_sendgrid_batch(conn, parse_batch(body), utcnow(), redactor=Redactor.of())
        settled = acts.send_drop(drop(cid))

    assert settled.status == "sent"
    assert len(fake_sendgrid.requests) == 1  # nurture never asked again
    touch = touch_for(engine, cid)
    assert (touch.status, touch.message_id) == ("sent", message.message_id)
    assert touch.sent_at == drop(cid).now  # counts for the minimum gap


def test_timeout_with_no_event_within_the_window_is_sent_once_more_and_no_more(
    engine: Engine, sendgrid_settings: Settings, fake_sendgrid: FakeSendGrid
) -> None:
    cid = add_contact(engine)
    fake_sendgrid.delay_next(1.5, count=2)  # both calls time out; no webhook here, so no event ever arrives
    settings = sendgrid_settings.model_copy(update={"send_evidence_window": timedelta(seconds=1)})
    with journey_activities(settings, engine) as acts:
        with pytest.raises(ApplicationError) as raised:
            acts.send_drop(drop(cid))
        assert raised.value.type == "AwaitingEvidence"
        time.sleep(1.1)  # the window passes in silence: by the rule, the provider never took it
        last = acts.send_drop(drop(cid))  # sent once more, times out again: unconfirmed for good
        time.sleep(1.1)
        again = acts.send_drop(drop(cid))
    assert last.status == again.status == "unconfirmed"
    assert len(fake_sendgrid.requests) == 2  # once more, and no more
    touch = touch_for(engine, cid)
    assert (touch.status, touch.attempts) == ("unconfirmed", 2)


def wait_for(check: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
