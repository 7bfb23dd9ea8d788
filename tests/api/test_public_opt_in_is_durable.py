"""A public opt-in, once answered, is held in the database until it is stored: the API process that answered may
die first, several API processes may work the inbox at once, and an erasure reaches the opt-ins still held.

A second `PublicSignups` on the same database is what another API process (or the next one to start) runs; the
first one is kept paused, as a process that died after answering would be."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from structlog.testing import capture_logs

from nurture.api.signup import Signup
from nurture.api.signups import GIVE_UP_AFTER, PublicSignups
from nurture.clock import utcnow
from nurture.db import Contact, OutboxEmail
from nurture.db.tables import SIGNUP_INBOX
from nurture.inbound import signup_inbox
from nurture.inbound.privacy import erase_contact
from tests.attacks.kit import victim
from tests.fixtures.api import ServedApi


def opt_in(email: str) -> dict[str, Any]:
    return {"email": email, "persona": "it-lead", "consent": {"source": "https://ledgerline.example/form"}}


def held(api: ServedApi) -> int:
    with api.ctx.engine.connect() as conn:
        return signup_inbox.held(conn)


def contacts_and_mails(api: ServedApi, emails: list[str]) -> tuple[int, int]:
    with api.ctx.engine.connect() as conn:
        made = conn.execute(select(func.count()).select_from(Contact).where(Contact.email.in_(emails))).scalar_one()  # type: ignore[attr-defined]
        mails = conn.execute(
            select(func.count()).select_from(OutboxEmail).where(OutboxEmail.to_email.in_(emails))  # type: ignore[attr-defined]
        ).scalar_one()
    return int(made), int(mails)


class Counting(PublicSignups):
    """Another API process's worker, counting which opt-ins it stored."""

    def __init__(self, api: ServedApi, stored: Counter[str]) -> None:
        super().__init__(lambda: api.ctx, lambda sent: None)
        self._counts = stored
        self.mine = 0

    def _upsert(self, conn: Any, signup: Signup) -> bool:
        sent = super()._upsert(conn, signup)
        self._counts[signup.inp.email] += 1
        self.mine += 1
        return sent


async def test_an_opt_in_answered_by_a_process_that_died_is_stored_by_the_next(api: ServedApi) -> None:
    assert api.signups is not None
    emails = [f"left-behind-{n}@ledgerline.example" for n in range(3)]
    async with api.signups.paused():  # this process answers and never works them (it "died")
        for email in emails:
            answer = await api.http.post("/contacts", json=opt_in(email))
            assert answer.status_code == 202, answer.text
        assert held(api) == 3 and contacts_and_mails(api, emails) == (0, 0)

        stored: Counter[str] = Counter()
        next_process = Counting(api, stored)
        next_process.start()  # what every API process does at start
        await next_process.settled(inbox=True)
        await next_process.close()
    assert held(api) == 0
    assert stored == Counter(emails)
    assert contacts_and_mails(api, emails) == (3, 3)  # each contact made, each asked to confirm once


async def test_three_processes_working_one_inbox_store_each_opt_in_once(api: ServedApi) -> None:
    assert api.signups is not None
    emails = [f"many-{n}@ledgerline.example" for n in range(60)]
    async with api.signups.paused():
        for email in emails:
            assert (await api.http.post("/contacts", json=opt_in(email))).status_code == 202
        assert held(api) == 60

        stored: Counter[str] = Counter()
        workers = [Counting(api, stored) for _ in range(3)]
        for worker in workers:
            worker.start()
        await asyncio.gather(*(w.settled(inbox=True) for w in workers))
        await asyncio.gather(*(w.close() for w in workers))
    assert held(api) == 0
    assert stored == Counter(emails), "every opt-in stored, none twice"
    assert sum(w.mine for w in workers) == 60
    assert contacts_and_mails(api, emails) == (60, 60)


async def test_an_erasure_drops_the_opt_ins_still_held_for_the_address(api: ServedApi) -> None:
    assert api.signups is not None
    cid = await victim(api, "erase-me@ledgerline.example")
    async with api.signups.paused():
        await api.http.post("/contacts", json=opt_in("Erase-Me@ledgerline.example"))
        await api.http.post("/contacts", json=opt_in("keep-me@ledgerline.example"))
        assert held(api) == 2
        with api.ctx.engine.begin() as conn:
            erase_contact(conn, cid, utcnow(), requested_by="dpo", reason="test")
        with api.ctx.engine.connect() as conn:
            left = conn.execute(select(SIGNUP_INBOX.c.email)).scalars().all()
        assert left == ["keep-me@ledgerline.example"]  # the erased address is gone from the inbox too
    await api.signups.settled()
    assert held(api) == 0


async def test_a_held_opt_in_that_can_never_be_stored_is_dropped_and_the_rest_are_stored(api: ServedApi) -> None:
    assert api.signups is not None
    async with api.signups.paused():
        with api.ctx.engine.begin() as conn:  # a row no current code writes: its consent time is missing
            signup_inbox.hold(
                conn,
                signup_inbox.Held("broken@ledgerline.example", {"email": "broken@ledgerline.example"}, 1.0, utcnow()),
            )
        await api.http.post("/contacts", json=opt_in("fine@ledgerline.example"))
        with capture_logs() as logs:
            worker = PublicSignups(lambda: api.ctx, lambda sent: None)
            worker.start()
            await worker.settled(inbox=True)
            await worker.close()
    assert held(api) == 0
    assert contacts_and_mails(api, ["fine@ledgerline.example"]) == (1, 1)
    assert contacts_and_mails(api, ["broken@ledgerline.example"]) == (0, 0)
    dropped = [e for e in logs if e["event"] == "signup.unreadable"]
    assert len(dropped) == 1 and "broken@" not in repr(dropped), dropped  # logged, without the address


class Flaky(PublicSignups):
    """A worker whose store fails for one address: `fails` times with the database's error, or always."""

    def __init__(self, api: ServedApi, email: str, fails: int, error: type[Exception]) -> None:
        super().__init__(lambda: api.ctx, lambda sent: None, retry_first=0.01)
        self.email, self.fails, self.error, self.tries = email, fails, error, 0

    def _upsert(self, conn: Any, signup: Signup) -> bool:
        if signup.inp.email == self.email:
            self.tries += 1
            if self.tries <= self.fails:
                super()._upsert(conn, signup)  # its writes happen, then the try fails: all must roll back
                if self.error is OperationalError:
                    raise OperationalError("INSERT ...", {}, Exception("connection lost"))
                raise self.error("the store refused it")
        return super()._upsert(conn, signup)


async def test_a_try_that_fails_keeps_the_opt_in_held_and_the_next_stores_it_once(api: ServedApi) -> None:
    assert api.signups is not None
    email = "flaky@ledgerline.example"
    async with api.signups.paused():
        assert (await api.http.post("/contacts", json=opt_in(email))).status_code == 202
        worker = Flaky(api, email, fails=2, error=OperationalError)
        with capture_logs() as logs:
            worker.start()
            await worker.settled(inbox=True)
            await worker.close()
    assert worker.tries == 3  # two failed tries rolled back (the claim with them), the third stored it
    assert held(api) == 0
    assert contacts_and_mails(api, [email]) == (1, 1)  # one contact, one confirmation: the failed tries left nothing
    assert [e["event"] for e in logs].count("signup.database_unavailable") == 2


async def test_an_opt_in_that_always_fails_is_set_aside_and_does_not_block_the_rest(api: ServedApi) -> None:
    assert api.signups is not None
    bad, good = "always-fails@ledgerline.example", "behind-it@ledgerline.example"
    async with api.signups.paused():
        for email in (bad, good):  # the bad one is older: it would be taken first every time
            assert (await api.http.post("/contacts", json=opt_in(email))).status_code == 202
        worker = Flaky(api, bad, fails=10**6, error=RuntimeError)
        with capture_logs() as logs:
            worker.start()
            await worker.settled(inbox=True)
            await worker.close()
    assert worker.tries == GIVE_UP_AFTER
    assert held(api) == 0
    assert contacts_and_mails(api, [good]) == (1, 1)
    assert contacts_and_mails(api, [bad]) == (0, 0)  # every try rolled back
    aside = [e for e in logs if e["event"] == "signup.set_aside"]
    assert len(aside) == 1 and bad not in repr(logs), aside
