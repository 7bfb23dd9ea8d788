"""A stranger at the public opt-in: knowing an address gives no power, and the answer gives nothing away.

Attacks: subscribe somebody else's address with `double_opt_in: false` (it was active at once, journeys and
all); time the answer to learn whether an address is known (a new address did the writes, a known one did not).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from nurture.config import SQLITE_PUBLIC_ANSWER_SECONDS, Settings
from nurture.db import Contact, OutboxEmail
from nurture.db.engine import session_scope
from nurture.db.tables import SIGNUP_INBOX
from nurture.inbound.outbox import ENROLL
from tests.api.payloads import event
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


LOCK_SECONDS = 0.15  # a store of an earlier opt-in that takes a while (a new address's work)
# Both answers are the floor's, so the two may differ by less than half the lock. A floor counted after the insert
# (the wait added to it) differs by about the whole lock, so it fails however the lock and the post interleave.
FLOOR_SECONDS = 0.4
TOLERANCE_SECONDS = LOCK_SECONDS / 2
PAIRS = 3


@contextmanager
def inbox_locked(engine: Engine) -> Iterator[threading.Thread]:
    """Another connection keeps the door's insert waiting for LOCK_SECONDS, as the signup worker's transaction
    does on SQLite while it stores an earlier opt-in (on PostgreSQL a table lock stands in for it)."""
    held = threading.Event()

    def hold() -> None:
        if engine.dialect.name == "sqlite":
            conn = sqlite3.connect(str(engine.url.database), isolation_level=None)
            conn.execute("BEGIN IMMEDIATE")  # the write lock, as any writer's transaction holds it
            held.set()
            time.sleep(LOCK_SECONDS)
            conn.execute("ROLLBACK")
            conn.close()
        else:
            with engine.begin() as pg:
                pg.execute(text(f"LOCK TABLE {SIGNUP_INBOX.name} IN SHARE MODE"))  # inserts wait for it
                held.set()
                time.sleep(LOCK_SECONDS)

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(10), "the lock was never taken"
    try:
        yield thread
    finally:
        thread.join()


async def test_the_answer_waits_out_a_floor_so_a_lock_wait_behind_an_earlier_opt_in_does_not_show(
    api: ServedApi,
) -> None:
    """On SQLite the door's one insert waits for the write lock, which the signup worker holds while it stores an
    earlier opt-in, longer for a new address than a known one: a stranger who posts a target address and then a
    probe could read the first from the second's latency. The answer comes no sooner than a floor longer than
    that wait, so a probe that waited and one that did not take the same time."""
    assert api.signups is not None
    settings = api.ctx.settings
    settings.public_answer_seconds = FLOOR_SECONDS

    async def answer_time(email: str) -> float:
        began = time.monotonic()
        answer = await api.http.post("/contacts", json=opt_in(email))
        took = time.monotonic() - began
        assert answer.status_code == 202, answer.text
        return took

    pairs: list[dict[str, float]] = []
    async with api.signups.paused():  # the client then returns with the door's answer, not after the work
        # A process's first opt-in answered ~0.16 s past the floor (FastAPI built the routers' routes on the first
        # request; `create_app` builds them now), whatever the address: the door is still warmed first, so that no
        # other first-time cost lands in a timed answer and the two differ only by the lock.
        await answer_time("warm-up@elsewhere.example")
        # Up to PAIRS pairs, until one is within the tolerance: a loaded host can stall one answer, but a floor
        # counted after the insert adds the lock's wait to every locked answer, so every pair would miss.
        for n in range(PAIRS):
            free = await answer_time(f"probe-free-{n}@elsewhere.example")
            with inbox_locked(api.ctx.engine):
                locked = await answer_time(f"probe-locked-{n}@elsewhere.example")
            pairs.append({"free": free, "locked": locked})
            if abs(locked - free) < TOLERANCE_SECONDS:
                break
        assert api.signups.pending == 1 + 2 * len(pairs)  # all held, the ones behind the lock too
    # neither answered before the floor: the wait is under it
    assert min(min(pair.values()) for pair in pairs) >= FLOOR_SECONDS, pairs
    # the floor counts from the door's start, not from after its insert: the wait does not add to it
    assert min(abs(pair["locked"] - pair["free"]) for pair in pairs) < TOLERANCE_SECONDS, pairs


def test_the_floor_is_on_by_default_where_the_door_can_wait_on_a_lock() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    # SQLite's busy handler retries a locked insert in steps of up to 100 ms: a 0.15 s wait ends by ~0.19 s
    assert settings.public_answer_floor("sqlite") == SQLITE_PUBLIC_ANSWER_SECONDS >= LOCK_SECONDS + 0.3
    assert settings.public_answer_floor("postgresql") == 0.0  # its insert waits on no lock: nothing to hide
    pinned = Settings(_env_file=None, public_answer_seconds=0.05)  # type: ignore[call-arg]
    assert pinned.public_answer_floor("sqlite") == pinned.public_answer_floor("postgresql") == 0.05


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


async def test_a_strangers_form_fill_never_mails_an_address_that_reported_spam_or_bounced(api: ServedApi) -> None:
    reporter, bounced, left = (
        await victim(api, "reporter@ledgerline.example"),
        await victim(api, "bounced@ledgerline.example"),
        await victim(api, "left@ledgerline.example"),
    )
    posted = await api.post_events(
        [
            event("spamreport", reporter, email="reporter@ledgerline.example"),
            event("bounce", bounced, email="bounced@ledgerline.example", reason="550 5.1.1 no such user"),
            event("unsubscribe", left, email="left@ledgerline.example"),
        ]
    )
    assert posted.status_code == 200, posted.text
    for email in ("reporter@ledgerline.example", "bounced@ledgerline.example", "left@ledgerline.example"):
        made = contact(api, email)
        assert made is not None and made.status == "suppressed", email
        assert (await api.http.post("/contacts", json=opt_in(email))).status_code == 202

    assert mails_to(api, "reporter@ledgerline.example") == [], "no confirmation to somebody who reported spam"
    assert mails_to(api, "bounced@ledgerline.example") == [], "nor to an address that bounced"
    assert len(mails_to(api, "left@ledgerline.example")) == 1, "who unsubscribed may still sign up again"
