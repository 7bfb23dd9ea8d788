"""A stranger at the public opt-in: knowing an address gives no power, and the answer gives nothing away.

Attacks: subscribe somebody else's address with `double_opt_in: false` (it was active at once, journeys and
all); time the answer to learn whether an address is known (a new address did the writes, a known one did not).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from nurture.db import Contact, OutboxEmail
from nurture.db.engine import session_scope
from nurture.inbound.outbox import ENROLL
from nurture.inbound.signup_inbox import INBOX as SIGNUP_INBOX
from tests.attacks.kit import VICTIM, everything, victim
from tests.fixtures.api import AUTH, ServedApi

STRANGER = "someone-else@ledgerline.example"


def opt_in(email: str, **extra: Any) -> dict[str, Any]:
    return {"email": email, "persona": "it-lead", "consent": {"source": "https://evil.example/form"}, **extra}


def contact(api: ServedApi, email: str) -> Contact | None:
    with session_scope(api.ctx.engine) as s:
        return s.execute(select(Contact).where(Contact.email == email)).scalar_one_or_none()


def mails_to(api: ServedApi, email: str) -> list[str]:
    with session_scope(api.ctx.engine) as s:
        return list(s.execute(select(OutboxEmail.subject).where(OutboxEmail.to_email == email)).scalars())


async def test_a_public_single_opt_in_still_needs_the_owner_to_confirm(api: ServedApi) -> None:
    answer = await api.http.post("/contacts", json=opt_in(STRANGER, double_opt_in=False))
    assert answer.status_code == 202, answer.text
    assert answer.json()["double_opt_in"] is True  # says what happens, whatever was asked

    made = contact(api, STRANGER)
    assert made is not None and made.status == "pending_confirmation"
    assert [s.signal for s in api.outbox(contact_id=made.id) if s.signal == ENROLL] == []  # no journey started
    assert len(mails_to(api, STRANGER)) == 1  # the owner is asked, and only the owner can say yes


async def test_single_opt_in_stays_for_the_trusted_integration(api: ServedApi) -> None:
    made = await api.http.post("/contacts", json=opt_in("crm@ledgerline.example", double_opt_in=False), headers=AUTH)
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "active" and made.json()["journeys"]
    assert mails_to(api, "crm@ledgerline.example") == []


def _held(api: ServedApi) -> list[tuple[str, list[str]]]:
    with api.ctx.engine.connect() as conn:
        rows = conn.execute(select(SIGNUP_INBOX.c.email, SIGNUP_INBOX.c.signup).order_by(SIGNUP_INBOX.c.id)).all()
    return [(email, sorted(fields)) for email, fields in rows]


async def test_the_public_answer_comes_before_any_work_for_known_and_new_addresses(api: ServedApi) -> None:
    """No timing to compare: the door's only database work is one insert into the signup inbox, the same for
    either address (no read, nothing it could collide with); the contact's work waits for the worker."""
    assert api.signups is not None
    await victim(api)
    before = everything(api.ctx.engine)
    answers = []
    async with api.signups.paused():
        for email in (VICTIM, STRANGER):
            for double in (False, True):
                got = await api.http.post("/contacts", json=opt_in(email, double_opt_in=double))
                answers.append((got.status_code, got.json()))
        assert api.signups.pending == 4  # every opt-in took the one path: held
        after = everything(api.ctx.engine)
        held = _held(api)
        assert [email for email, _ in held] == [VICTIM, VICTIM, STRANGER, STRANGER]
        assert len({repr(fields) for _, fields in held}) == 1  # the same row for a known and a new address
        changed = {k for k in after if after[k] != before.get(k)}
        assert changed == {"signup_inbox", "signup_inbox#"}, changed  # nothing else written before answering
    assert len({repr(a) for a in answers}) == 1, answers
    await api.signups.settled()
    assert _held(api) == []  # worked: each row gone with the work it stood for

    made = contact(api, STRANGER)
    assert made is not None and made.status == "pending_confirmation"
    assert len(mails_to(api, STRANGER)) == 1  # rate limited: four posts, one email
    known = contact(api, VICTIM)
    assert known is not None and known.status == "active" and known.first_name == "Ada"
    assert mails_to(api, VICTIM) == []  # an active contact is not mailed because a stranger typed its address


async def test_a_flood_of_opt_ins_is_told_to_retry_instead_of_growing_memory(api: ServedApi) -> None:
    assert api.signups is not None
    api.signups.max_pending = 2
    async with api.signups.paused():
        answers = [await api.http.post("/contacts", json=opt_in(f"flood-{n}@ledgerline.example")) for n in range(3)]
    assert [a.status_code for a in answers] == [202, 202, 503]
    assert answers[2].headers["retry-after"] == "60"
    await api.signups.settled()
    assert contact(api, "flood-0@ledgerline.example") is not None
    assert contact(api, "flood-2@ledgerline.example") is None


async def test_what_no_column_can_hold_is_refused_before_the_answer(api: ServedApi) -> None:
    """The opt-in is stored after its answer: text the database would refuse must be a 422 at the door."""
    bodies = [
        b'{"email": "\\ud800@x.example", "consent": {"source": "form"}}',
        b'{"email": "a@x.example", "consent": {"source": "form", "wording": "\\u0000"}}',
        b'{"email": "a@x.example", "consent": {"source": "form"}, "topics": ["\\u0000"]}',
        ("{" + '"email": "' + "\u0130" * 300 + '@x.example", "consent": {"source": "form"}}').encode(),
    ]
    for body in bodies:
        answer = await api.http.post("/contacts", content=body, headers={"Content-Type": "application/json"})
        assert answer.status_code == 422, (body[:60], answer.status_code, answer.text[:200])
    assert api.signups is not None and api.signups.pending == 0
