"""Consent is a record, never overwritten: every grant, confirmation and withdrawal is a new row, the status
follows the latest, GET on a confirmation or unsubscribe link changes nothing, and a pending confirmation cannot be
skipped by posting again (issue 7: a mail scanner's GET re-activated an unsubscribed contact; re-posting with
`double_opt_in: false` skipped the confirmation)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from nurture import links
from nurture.clock import utcnow
from nurture.consent import ConsentChange, ConsentRefusedError, record_consent
from nurture.consent import history as consent_trail
from nurture.db import ConsentAction, Contact, OutboxEmail
from nurture.db.engine import session_scope
from nurture.inbound.outbox import ENROLL
from tests.activities.helpers import DAY, T0, add_contact, enroll, outbox_activities
from tests.activities.test_journey_end import end
from tests.api.payloads import contact, event
from tests.fixtures.api import AUTH, ServedApi

FORM = {"source": "https://ledgerline.example/whitepaper#form", "wording": "whitepaper-form-v3"}
ADA = {"email": "ada@ledgerline.example", "persona": "finance-lead", "consent": FORM}
BROWSER = {"User-Agent": "Mozilla/5.0 (test)"}


def confirmation_path(engine: Engine) -> str:
    with session_scope(engine) as s:
        mails = s.exec(select(OutboxEmail).order_by(OutboxEmail.id)).all()  # type: ignore[arg-type]
    found = re.search(r"https?://\S+/confirm/\S+", mails[-1].text)
    assert found is not None
    return urlsplit(found.group()).path


async def history(api: ServedApi, cid: int) -> list[dict[str, str]]:
    response = await api.http.get(f"/contacts/{cid}/history", headers=AUTH)
    assert response.status_code == 200, response.text
    trail: list[dict[str, str]] = response.json()["consent"]
    return trail


async def test_every_consent_change_is_a_new_row_and_the_status_follows_the_latest(
    api: ServedApi, engine: Engine
) -> None:
    created = await api.http.post("/contacts", json={**ADA, "double_opt_in": True}, headers={**AUTH, **BROWSER})
    cid = created.json()["contact_id"]
    assert contact(engine, cid).status == "pending_confirmation"
    assert (await api.http.post(confirmation_path(engine), headers=BROWSER)).status_code == 200
    assert contact(engine, cid).status == "active"
    unsubscribe = urlsplit(links.unsubscribe_url(api.ctx.settings, cid)).path
    assert (await api.http.post(unsubscribe, content=b"List-Unsubscribe=One-Click")).status_code == 200
    assert contact(engine, cid).status == "suppressed"
    again = await api.http.post("/contacts", json=ADA, headers=AUTH)  # back, through the CRM: must confirm
    assert again.json()["status"] == "suppressed"
    assert (await api.http.post(confirmation_path(engine))).status_code == 200

    trail = await history(api, cid)
    assert [(r["action"], r["actor"]) for r in trail] == [
        ("requested", "api-token"),
        ("confirmed", "contact"),
        ("withdrawn", "link"),
        ("requested", "api-token"),
        ("confirmed", "contact"),
    ]
    first = trail[0]
    assert (first["source"], first["wording"], first["lawful_basis"]) == (FORM["source"], FORM["wording"], "consent")
    assert (first["ip"], first["user_agent"]) == ("127.0.0.1", "Mozilla/5.0 (test)")
    assert (trail[1]["ip"], trail[1]["user_agent"]) == ("127.0.0.1", "Mozilla/5.0 (test)")  # who pressed it
    assert (trail[2]["source"], trail[2]["ip"]) == ("one-click", "127.0.0.1")
    assert contact(engine, cid).status == "active"


async def test_get_on_a_confirmation_link_shows_a_button_and_changes_nothing(api: ServedApi, engine: Engine) -> None:
    created = await api.http.post("/contacts", json={**ADA, "double_opt_in": True}, headers=AUTH)
    cid = created.json()["contact_id"]
    link = confirmation_path(engine)

    page = await api.http.get(link)  # what a mail scanner does

    assert page.status_code == 200
    assert f'<form method="post" action="{link}">' in page.text
    assert contact(engine, cid).status == "pending_confirmation"
    assert api.outbox() == []
    assert [r["action"] for r in await history(api, cid)] == ["requested"]
    assert (await api.http.post(link)).status_code == 200
    assert contact(engine, cid).status == "active"


async def test_get_on_a_confirmation_link_never_reactivates_an_unsubscribed_contact(
    api: ServedApi, engine: Engine
) -> None:
    created = await api.http.post("/contacts", json={**ADA, "double_opt_in": True}, headers=AUTH)
    cid = created.json()["contact_id"]
    link = confirmation_path(engine)
    await api.http.post(link)
    unsubscribe = urlsplit(links.unsubscribe_url(api.ctx.settings, cid)).path
    await api.http.get(unsubscribe)  # GET on the unsubscribe link: only a page
    assert contact(engine, cid).status == "active"
    await api.http.post(unsubscribe, content=b"List-Unsubscribe=One-Click")
    await api.http.post("/contacts", json=ADA, headers=AUTH)  # a new request: a new link

    for _ in range(2):
        assert (await api.http.get(confirmation_path(engine))).status_code == 200
        assert (await api.http.get(link)).status_code == 200

    assert contact(engine, cid).status == "suppressed"
    assert [r["action"] for r in await history(api, cid)] == ["requested", "confirmed", "withdrawn", "requested"]


@pytest.mark.parametrize("proof", ["public", "api-token"])
async def test_posting_again_with_single_opt_in_never_skips_a_pending_confirmation(
    api: ServedApi, engine: Engine, proof: str
) -> None:
    headers = AUTH if proof == "api-token" else {}
    await api.http.post("/contacts", json={**ADA, "double_opt_in": True}, headers=headers)

    again = await api.http.post("/contacts", json={**ADA, "double_opt_in": False}, headers=headers)

    assert again.status_code in (200, 202)
    with session_scope(engine) as s:
        found = s.exec(select(Contact).where(Contact.email == ADA["email"])).one()
    cid = found.id
    assert cid is not None
    assert contact(engine, cid).status == "pending_confirmation"
    assert api.outbox() == []  # no journey before the owner confirms
    assert (await api.http.post(confirmation_path(engine))).status_code == 200
    assert [(o.journey, o.signal) for o in api.outbox()] == [("b2b_drip", ENROLL)]


def test_the_writer_refuses_to_activate_without_a_confirmation(engine: Engine) -> None:
    pending = add_contact(engine, "pending@example.com", status="pending_confirmation")
    gone = add_contact(engine, "gone@example.com", status="suppressed", suppressed_reason="unsubscribe")
    grant = ConsentChange(ConsentAction.GRANTED, source="import", actor="cli", occurred_at=T0)
    with engine.begin() as conn:
        for cid in (pending, gone):
            with pytest.raises(ConsentRefusedError):
                record_consent(conn, cid, grant, utcnow())


def test_a_journey_ending_on_an_unsubscribe_records_the_withdrawal(engine: Engine) -> None:
    cid = add_contact(engine)
    wf = enroll(engine, cid)
    with outbox_activities(engine) as acts:
        acts.end_journey(end(cid, wf, "unsubscribe"))
        acts.end_journey(end(cid, wf, "unsubscribe"))  # a retry adds nothing
    with engine.begin() as conn:
        rows = consent_trail(conn, cid)
    assert [(r["action"], r["actor"], r["occurred_at"]) for r in rows] == [("withdrawn", "journey", T0 + DAY)]


async def test_sendgrid_unsubscribes_and_spam_reports_are_consent_rows(api: ServedApi, engine: Engine) -> None:
    leaving = add_contact(engine, "leaving@example.com")
    complaining = add_contact(engine, "complaining@example.com")

    posted = await api.post_events([event("unsubscribe", leaving), event("spamreport", complaining)])

    assert posted.status_code == 200, posted.text
    with engine.begin() as conn:
        rows = {cid: [r["action"] for r in consent_trail(conn, cid)] for cid in (leaving, complaining)}
    assert rows == {leaving: ["withdrawn"], complaining: ["withdrawn"]}
    assert contact(engine, complaining).suppressed_reason == "complaint"
