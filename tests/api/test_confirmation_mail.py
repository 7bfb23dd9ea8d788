"""Double opt-in with an email provider: the confirmation goes out through SendGrid (the fake, over real HTTP),
once, even when the provider refuses for a while; the link it carries confirms the contact."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest_asyncio
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import select
from temporalio.client import Client

from activities.email import OutgoingEmail, build_sender
from nurture.clock import utcnow
from nurture.config import Settings
from nurture.context import AppContext
from nurture.db import Contact, Touch
from nurture.db.engine import session_scope
from nurture.fakes.sendgrid import FakeSendGrid
from nurture.inbound.confirmation import send_confirmation
from nurture.outbound.evidence import Evidence, settle_by_evidence
from nurture.outbound.mailer import MailPass, TransactionalMailer
from tests.api.payloads import add_contact, contact
from tests.fixtures.api import AUTH, ServedApi, api_settings, free_port, served_api

FORM = "https://ledgerline.example/newsletter#form"


@pytest_asyncio.fixture
async def api_with_sendgrid(
    engine: Engine, webhook_key: tuple[ec.EllipticCurvePrivateKey, str], fake_sendgrid: FakeSendGrid
) -> AsyncIterator[ServedApi]:
    private, public = webhook_key
    settings = api_settings(
        free_port(),
        public,
        sendgrid_api_key=SecretStr(fake_sendgrid.api_key),
        sendgrid_host=fake_sendgrid.url,
        sendgrid_timeout_seconds=0.5,
    )
    client = await Client.connect("127.0.0.1:9", lazy=True)
    async with served_api(AppContext(settings, engine, client), private) as served:
        yield served


def _queue_confirmation(engine: Engine, settings: Settings, email: str, now: datetime) -> int:
    """A contact whose confirmation `POST /contacts` would have queued (the mailer's input), without the API."""
    cid = add_contact(engine, email)
    with engine.begin() as conn:
        send_confirmation(conn, settings, cid, now)
    return cid


def _confirmation_touches(engine: Engine, contact_id: int) -> list[Touch]:
    with session_scope(engine) as s:
        return list(s.exec(select(Touch).where(Touch.contact_id == contact_id, Touch.channel == "transactional")))


async def test_confirmation_is_sent_through_sendgrid_and_its_link_confirms(
    api_with_sendgrid: ServedApi, fake_sendgrid: FakeSendGrid, engine: Engine
) -> None:
    api = api_with_sendgrid
    body = {"email": "ana@example.com", "first_name": "Ana", "persona": "it-lead", "consent": {"source": FORM}}

    created = await api.http.post("/contacts", json={**body, "double_opt_in": True}, headers=AUTH)

    assert created.status_code == 201, created.text
    cid = created.json()["contact_id"]
    await api.until(lambda: len(fake_sendgrid.messages) == 1, what="the confirmation at SendGrid")
    message = fake_sendgrid.messages[0]
    assert message.recipients == ["ana@example.com"]
    assert "Confirm your subscription" in message.subject
    text = next(c["value"] for c in message.body["content"] if c["type"] == "text/plain")
    found = re.search(r"https?://\S+/confirm/\S+", text)
    assert found is not None
    await api.until(lambda: _confirmation_touches(engine, cid)[0].status == "sent", what="the touch settled")
    touch = _confirmation_touches(engine, cid)[0]
    assert (touch.sender, touch.message_id) == ("sendgrid", message.message_id)

    confirmed = await api.http.post(urlsplit(found.group()).path)

    assert confirmed.status_code == 200
    assert contact(engine, cid).status == "active"
    assert len(fake_sendgrid.messages) == 1, "one confirmation, sent once"


async def test_a_provider_outage_delays_the_confirmation_and_sends_it_once(
    api_with_sendgrid: ServedApi, fake_sendgrid: FakeSendGrid, engine: Engine
) -> None:
    api = api_with_sendgrid
    fake_sendgrid.fail_next(503, count=2)
    body = {"email": "bo@example.com", "persona": "it-lead", "consent": {"source": FORM}, "double_opt_in": True}

    created = await api.http.post("/contacts", json=body, headers=AUTH)

    assert created.status_code == 201
    cid = created.json()["contact_id"]
    await api.until(
        lambda: (
            _confirmation_touches(engine, cid)[0].status == "queued"
            and bool(_confirmation_touches(engine, cid)[0].error)
        ),
        what="the refused attempt recorded",
    )
    assert fake_sendgrid.messages == []
    # The mailer retries after its backoff; drive passes at later times rather than waiting 30 s of wall time.
    mailer = api.mailer
    assert mailer is not None
    later = utcnow()
    for _ in range(3):
        later += timedelta(minutes=2)
        await asyncio.to_thread(mailer.send_queued, later)
    assert [m.recipients for m in fake_sendgrid.messages] == [["bo@example.com"]]
    assert _confirmation_touches(engine, cid)[0].status == "sent"


def _left_sending_by_a_crash(engine: Engine, touch_id: int | None, at: datetime) -> None:
    with session_scope(engine) as s:  # a mailer claimed it, called the provider, and died before settling
        row = s.get(Touch, touch_id)
        assert row is not None
        row.status, row.sent_at, row.claimed_at, row.attempts = "sending", at, at, 1


def test_a_claim_left_by_a_crash_with_no_provider_event_is_sent_once_more_after_the_window(
    engine: Engine, sendgrid_settings: Settings, fake_sendgrid: FakeSendGrid
) -> None:
    now = utcnow()
    cid = _queue_confirmation(engine, sendgrid_settings, "cy@example.com", now)
    _left_sending_by_a_crash(engine, _confirmation_touches(engine, cid)[0].id, now)
    mailer = TransactionalMailer(sendgrid_settings, engine, build_sender(sendgrid_settings, engine))

    soon = mailer.send_queued(now + timedelta(minutes=1))
    assert soon == MailPass(), "within the window the provider may still report it: left alone"
    later = mailer.send_queued(now + timedelta(minutes=10))
    again = mailer.send_queued(now + timedelta(minutes=20))

    assert (later.sent, again.sent) == (1, 0)
    [touch] = _confirmation_touches(engine, cid)
    assert (touch.status, touch.attempts) == ("sent", 2)
    assert [m.recipients for m in fake_sendgrid.messages] == [["cy@example.com"]]


def test_a_claim_left_by_a_crash_is_settled_sent_by_the_providers_event_and_never_resent(
    engine: Engine, sendgrid_settings: Settings, fake_sendgrid: FakeSendGrid
) -> None:
    now = utcnow()
    cid = _queue_confirmation(engine, sendgrid_settings, "cyd@example.com", now)
    touch_id = _confirmation_touches(engine, cid)[0].id
    assert touch_id is not None
    _left_sending_by_a_crash(engine, touch_id, now)
    with engine.begin() as conn:
        settle_by_evidence(conn, [Evidence(touch_id, now, cid, "sg-1")])
    mailer = TransactionalMailer(sendgrid_settings, engine, build_sender(sendgrid_settings, engine))

    assert mailer.send_queued(now + timedelta(minutes=10)) == MailPass()
    [touch] = _confirmation_touches(engine, cid)
    assert (touch.status, touch.message_id) == ("sent", "sg-1")
    assert fake_sendgrid.messages == []


def test_a_contact_who_opted_out_meanwhile_gets_no_confirmation(
    engine: Engine, sendgrid_settings: Settings, fake_sendgrid: FakeSendGrid
) -> None:
    cid = _queue_confirmation(engine, sendgrid_settings, "dee@example.com", utcnow())
    with session_scope(engine) as s:  # unsubscribed (say, from an earlier email) before the mailer's pass
        row = s.get(Contact, cid)
        assert row is not None
        row.status = "suppressed"
    mailer = TransactionalMailer(sendgrid_settings, engine, build_sender(sendgrid_settings, engine))

    mailer.send_queued()

    assert _confirmation_touches(engine, cid)[0].status == "suppressed"
    assert fake_sendgrid.messages == []


def test_a_sender_crash_before_the_call_queues_the_confirmation_again(
    engine: Engine, sendgrid_settings: Settings, fake_sendgrid: FakeSendGrid
) -> None:
    cid = _queue_confirmation(engine, sendgrid_settings, "eve@example.com", utcnow())
    real = build_sender(sendgrid_settings, engine)

    class Broken:
        name = "broken"

        def send(self, email: OutgoingEmail) -> str | None:
            raise KeyError("template field")  # a bug, before anything reached the provider

    TransactionalMailer(sendgrid_settings, engine, Broken()).send_queued()
    requeued = _confirmation_touches(engine, cid)[0]
    assert TransactionalMailer(sendgrid_settings, engine, real).send_queued().sent == 0  # the backoff is on the row
    TransactionalMailer(sendgrid_settings, engine, real).send_queued(utcnow() + timedelta(minutes=1))

    assert (requeued.status, "KeyError" in (requeued.error or "")) == ("queued", True)
    assert _confirmation_touches(engine, cid)[0].status == "sent"
    assert [m.recipients for m in fake_sendgrid.messages] == [["eve@example.com"]]
