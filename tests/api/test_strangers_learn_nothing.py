"""Knowing a contact's email address gives a stranger nothing: no token, no id, no change, no way to tell.

Each test is an attack from issue 7 that worked before: the public `POST /contacts` returned a known contact's
token and overwrote its consent and profile; `/identify` with a known email linked any visitor to the contact and
told which addresses were contacts; names carried phishing links into emails.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from nurture import links
from nurture.context import AppContext
from nurture.db import Contact, Enrollment, OutboxEmail, SignalOutbox, Visitor
from nurture.db.engine import session_scope
from nurture.db.tables import CONSENT
from nurture.inbound.outbox import ENROLL
from tests.api.payloads import contact
from tests.fixtures.api import AUTH, ServedApi, free_port, served_api

FORM = "https://ledgerline.example/whitepaper#form"
OWNER = {
    "email": "ada@ledgerline.example",
    "first_name": "Ada",
    "company": "Ledgerline",
    "persona": "finance-lead",
    "consent": {"source": FORM},
}
STRANGER = {
    "first_name": "Visitor",
    "company": "Evil Corp",
    "persona": "it-lead",
    "topics": ["automation"],
    "consent": {"source": "https://evil.example/form", "ip": "6.6.6.6"},
}


def snapshot(engine: Engine, contact_id: int) -> dict[str, Any]:
    """Everything a stranger might want to change about a contact."""
    with session_scope(engine) as s:
        row = s.get(Contact, contact_id)
        assert row is not None
        counts = {
            name: s.execute(select(func.count()).select_from(model)).scalar_one()
            for name, model in (("outbox", SignalOutbox), ("mail", OutboxEmail), ("enrollment", Enrollment))
        }
        consent = s.execute(select(func.count()).select_from(CONSENT)).scalar_one()
        visitors = s.execute(select(func.count()).select_from(Visitor).where(Visitor.contact_id == contact_id))
        fields = row.model_dump(exclude={"updated_at"})
        return {**fields, **counts, "consent_rows": consent, "visitors": visitors.scalar_one()}


async def owner(api: ServedApi, **extra: Any) -> int:
    created = await api.http.post("/contacts", json={**OWNER, **extra}, headers=AUTH)
    assert created.status_code == 201, created.text
    return int(created.json()["contact_id"])


async def test_public_opt_in_for_a_known_email_answers_like_a_new_one_and_changes_nothing(
    api: ServedApi, engine: Engine
) -> None:
    cid = await owner(api)
    await api.http.post("/track", json={"anonymous_id": "attacker-browser", "url": "https://ledgerline.example/"})
    before = snapshot(engine, cid)

    known = await api.http.post(
        "/contacts", json={**STRANGER, "email": "ADA@ledgerline.example", "anonymous_id": "attacker-browser"}
    )
    new = await api.http.post("/contacts", json={**STRANGER, "email": "someone-new@example.com"})

    assert known.status_code == new.status_code == 202
    assert known.json() == new.json()  # the same answer: nothing tells a known address from a new one
    assert "contact_token" not in known.text and "contact_id" not in known.text
    assert "contact_token" not in new.text and "contact_id" not in new.text
    after = snapshot(engine, cid)
    assert after["outbox"] == before["outbox"]  # no enrollment: a stranger's opt-in waits for its confirmation
    assert after["mail"] == before["mail"] + 1  # the new address's confirmation email, none for Ada
    assert {k: v for k, v in after.items() if k not in ("mail", "consent_rows")} == {
        k: v for k, v in before.items() if k not in ("mail", "consent_rows")
    }  # profile, consent fields, status, journeys and visitors of the known contact untouched
    assert after["consent_rows"] == before["consent_rows"] + 1  # the new address's request, none for Ada
    assert api.count(kind="form_fill", contact_id=cid) == 1  # no score from a stranger's form fill


async def test_a_stranger_cannot_take_over_a_known_contacts_journeys_or_lift_its_suppression(
    api: ServedApi, engine: Engine
) -> None:
    cid = await owner(api)
    unsubscribe = links.unsubscribe_url(api.ctx.settings, cid).replace(api.url, "")
    assert (await api.http.post(unsubscribe, content=b"List-Unsubscribe=One-Click")).status_code == 200
    outbox = len(api.outbox())

    for _ in range(3):
        again = await api.http.post("/contacts", json={**OWNER, "double_opt_in": False})
        assert again.status_code == 202

    assert contact(engine, cid).status == "suppressed"  # only a confirmed opt-in lifts it
    assert len(api.outbox()) == outbox  # no journey restarted
    with session_scope(engine) as s:
        mails = s.execute(select(func.count()).select_from(OutboxEmail)).scalar_one()
    assert mails == 1  # the owner gets one confirmation email: three posts within minutes are rate limited


async def test_the_confirmation_rate_limit_holds_across_api_processes(api: ServedApi, engine: Engine) -> None:
    await api.http.post("/contacts", json={**OWNER, "double_opt_in": True})
    second = AppContext(api.ctx.settings.model_copy(update={"api_port": free_port()}), engine, api.ctx.client)

    async with served_api(second, api.key) as other:  # another API process on the same database
        posted = await other.http.post("/contacts", json={**OWNER, "double_opt_in": True})

    assert posted.status_code == 202
    with session_scope(engine) as s:
        assert s.execute(select(func.count()).select_from(OutboxEmail)).scalar_one() == 1


async def test_profile_changes_need_the_api_token_or_the_contacts_own_token(api: ServedApi, engine: Engine) -> None:
    cid = await owner(api)
    other = await owner(api, email="grace@ledgerline.example")

    public = await api.http.post("/contacts", json={**OWNER, "first_name": "Mallory"})
    foreign = await api.http.post(
        "/contacts",
        json={**OWNER, "first_name": "Mallory", "contact_token": links.contact_token(api.ctx.settings, other)},
    )
    forged = await api.http.post("/contacts", json={**OWNER, "first_name": "Mallory", "contact_token": "x.y"})
    assert contact(engine, cid).first_name == "Ada"
    own = await api.http.post(
        "/contacts",
        json={**OWNER, "first_name": "Augusta", "contact_token": links.contact_token(api.ctx.settings, cid)},
    )
    server = await api.http.post(
        "/contacts",
        json={"email": OWNER["email"], "consent": {"source": "crm"}, "company": "Analytical Engines"},
        headers=AUTH,
    )

    assert public.status_code == 202
    assert (foreign.status_code, forged.status_code) == (403, 403)
    assert (own.status_code, server.status_code) == (200, 200)
    row = contact(engine, cid)
    assert (row.first_name, row.company) == ("Augusta", "Analytical Engines")


async def test_names_that_carry_links_or_markup_are_refused(api: ServedApi) -> None:
    phishing = {
        "first_name": "Visit https://evil.example/login now",
        "last_name": "evil.example",
        "company": "evil.example/login",
    }
    for name, value in phishing.items():
        response = await api.http.post("/contacts", json={**OWNER, name: value})
        assert response.status_code == 422, (name, response.text)
        assert "link" in response.json()["error"]
    markup = await api.http.post("/contacts", json={**OWNER, "first_name": "<a href=x>Ada</a>"})
    too_long = await api.http.post("/contacts", json={**OWNER, "first_name": "A" * 121})
    fine = await api.http.post(
        "/contacts", json={**OWNER, "first_name": "José-María O'Brien", "company": "Booking.com"}
    )
    assert (markup.status_code, too_long.status_code, fine.status_code) == (422, 422, 202)
    assert api.count() == 1  # only the fine one was stored (its form fill)


async def test_identify_with_an_email_links_nothing_and_never_tells_whether_it_is_a_contact(
    api: ServedApi, engine: Engine
) -> None:
    cid = await owner(api)
    await api.http.post("/track", json={"anonymous_id": "attacker", "url": "https://ledgerline.example/pricing"})

    known = await api.http.post("/identify", json={"anonymous_id": "attacker", "email": OWNER["email"]})
    unknown = await api.http.post("/identify", json={"anonymous_id": "attacker", "email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == 422
    assert known.json() == unknown.json()
    with session_scope(engine) as s:
        visitor = s.get(Visitor, "attacker")
        assert visitor is not None and visitor.contact_id is None
    assert [o.signal for o in api.outbox(contact_id=cid)] == [ENROLL]  # no page view steered Ada's journey

    token = links.contact_token(api.ctx.settings, cid)
    proven = await api.http.post("/identify", json={"anonymous_id": "attacker", "contact_token": token})
    assert proven.status_code == 200
    assert proven.json()["events_attributed"] == 1
