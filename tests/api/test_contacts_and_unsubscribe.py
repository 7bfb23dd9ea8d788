"""Opt-in with consent (single and double), confirmation links, and RFC 8058 one-click unsubscribe."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine
from sqlmodel import select

from nurture import links, temporal_names
from nurture.db import OutboxEmail
from nurture.db.engine import session_scope
from nurture.inbound.outbox import ENROLL
from tests.api.payloads import add_contact, contact
from tests.fixtures.api import AUTH, ServedApi

FORM = "https://ledgerline.example/whitepaper#form"


def _confirmation_link(engine: Engine, email: str) -> str:
    with session_scope(engine) as s:
        mails = s.exec(select(OutboxEmail).where(OutboxEmail.to_email == email)).all()
    assert len(mails) >= 1
    found = re.search(r"https?://\S+/confirm/\S+", mails[-1].text)
    assert found is not None
    return urlsplit(found.group()).path


async def test_single_opt_in_records_consent_and_queues_matching_journeys(api: ServedApi, engine: Engine) -> None:
    body = {
        "email": "Lin@Ledgerline.example",
        "persona": "finance-lead",
        "first_name": "Lin",
        "consent": {"source": FORM},
    }

    created = await api.http.post("/contacts", json=body, headers=AUTH)
    again = await api.http.post("/contacts", json={**body, "topics": ["automation"]}, headers=AUTH)

    assert created.status_code == 201, created.text
    assert again.status_code == 200
    data = created.json()
    assert (data["status"], data["journeys"], data["confirmation_sent"]) == ("active", ["b2b_drip"], False)
    assert again.json()["journeys"] == []  # already queued: a journey runs once
    row = contact(engine, data["contact_id"])
    assert row.email == "lin@ledgerline.example"
    assert row.consent_source == FORM
    assert row.consent_ip == "127.0.0.1"
    assert row.consent_at is not None
    assert row.topics == ["automation"]
    assert [(o.journey, o.signal) for o in api.outbox()] == [("b2b_drip", ENROLL)]
    assert api.count(kind="form_fill", contact_id=data["contact_id"]) == 2  # both count toward the score


async def test_double_opt_in_waits_for_the_signed_confirmation_link(api: ServedApi, engine: Engine) -> None:
    body = {"email": "kim@example.com", "persona": "it-lead", "consent": {"source": FORM}, "double_opt_in": True}

    created = await api.http.post("/contacts", json=body, headers=AUTH)

    assert created.status_code == 201
    cid = created.json()["contact_id"]
    assert (created.json()["status"], created.json()["confirmation_sent"]) == ("pending_confirmation", True)
    assert api.outbox() == []  # no journey before confirmation
    link = _confirmation_link(engine, "kim@example.com")
    forged = await api.http.post(link[:-3] + "xyz")
    confirmed = await api.http.post(link)
    twice = await api.http.post(link)

    assert forged.status_code == 403
    assert confirmed.status_code == twice.status_code == 200
    assert contact(engine, cid).status == "active"
    assert [(o.journey, o.signal) for o in api.outbox()] == [("b2b_drip", ENROLL)]


async def test_one_click_unsubscribe_suppresses_and_exits_every_journey(api: ServedApi, engine: Engine) -> None:
    cid = add_contact(engine, "leaving@example.com", journeys=("b2b_drip", "b2c_cultivation"))
    headers = links.list_unsubscribe_headers(api.ctx.settings, cid, touch_id=7)
    url = headers["List-Unsubscribe"].strip("<>")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    page = await api.http.get(urlsplit(url).path)  # a person or a link scanner: shows a button only
    assert page.status_code == 200
    assert contact(engine, cid).status == "active"
    posted = await api.http.post(
        urlsplit(url).path,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    forged = await api.http.post(urlsplit(url).path[:-2] + "xx", content=b"List-Unsubscribe=One-Click")

    assert posted.status_code == 200
    assert forged.status_code == 403
    row = contact(engine, cid)
    assert (row.status, row.suppressed_reason) == ("suppressed", "unsubscribe")
    assert {(o.journey, o.signal) for o in api.outbox(contact_id=cid)} == {
        ("b2b_drip", temporal_names.SIGNAL_EXIT),
        ("b2c_cultivation", temporal_names.SIGNAL_EXIT),
    }


async def test_opting_in_again_after_unsubscribing_needs_confirmation(api: ServedApi, engine: Engine) -> None:
    cid = add_contact(engine, "back@example.com", journeys=("b2b_drip",))
    url = links.unsubscribe_url(api.ctx.settings, cid)
    await api.http.post(urlsplit(url).path, content=b"List-Unsubscribe=One-Click")
    exits = len(api.outbox())

    response = await api.http.post(
        "/contacts",
        json={"email": "back@example.com", "persona": "finance-lead", "consent": {"source": FORM}},
        headers=AUTH,
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["confirmation_sent"]) == ("suppressed", True)
    assert contact(engine, cid).status == "suppressed"  # anyone can type an address; only its owner can click
    assert len(api.outbox()) == exits
    confirmed = await api.http.post(_confirmation_link(engine, "back@example.com"))
    assert confirmed.status_code == 200
    assert contact(engine, cid).status == "active"


async def test_bad_contact_input_gets_a_clear_4xx(api: ServedApi) -> None:
    no_consent = await api.http.post("/contacts", json={"email": "a@example.com"})
    bad_email = await api.http.post("/contacts", json={"email": "nope", "consent": {"source": FORM}})
    bad_zone = await api.http.post(
        "/contacts", json={"email": "a@example.com", "time_zone": "Mars/Olympus", "consent": {"source": FORM}}
    )

    assert (no_consent.status_code, bad_email.status_code, bad_zone.status_code) == (422, 422, 422)
    assert "consent" in no_consent.json()["error"]
    assert "not an email address" in bad_email.json()["error"]
    assert "unknown time zone" in bad_zone.json()["error"]
