"""A public opt-in answered while the database is down is not lost: the signup worker retries it with backoff
(a warning each time) and stores it, with its confirmation email, once the database is back."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import create_engine, select
from structlog.testing import capture_logs

from nurture.db import Contact, OutboxEmail
from nurture.db.engine import session_scope
from tests.fixtures.api import ServedApi, free_port

EMAIL = "outage-opt-in@ledgerline.example"
DOWN_FOR = 1.5  # seconds


def opt_in(email: str) -> dict[str, Any]:
    return {"email": email, "persona": "it-lead", "consent": {"source": "https://ledgerline.example/form"}}


async def test_an_opt_in_answered_while_the_database_is_down_is_stored_once_it_is_back(api: ServedApi) -> None:
    live = api.ctx.engine
    dead = create_engine(f"postgresql+psycopg://nurture@127.0.0.1:{free_port()}/down")  # nothing listens there

    async def database_back() -> None:
        await asyncio.sleep(DOWN_FOR)
        api.ctx.engine = live

    api.ctx.engine = dead  # the API's context: what the signup worker opens its transaction on
    try:
        with capture_logs() as logs:
            back = asyncio.create_task(database_back())
            started = time.monotonic()
            answer = await api.http.post("/contacts", json=opt_in(EMAIL))  # the fixture waits until it is stored
            took = time.monotonic() - started
            await back
    finally:
        api.ctx.engine = live
        dead.dispose()
    assert answer.status_code == 202, answer.text
    retries = [e for e in logs if e["event"] == "signup.database_unavailable"]
    assert retries, "the outage was seen and retried, not dropped"
    assert all(EMAIL not in repr(e) for e in logs), "no address in the logs"
    assert took >= DOWN_FOR * 0.9, "stored only once the database was back"
    with session_scope(live) as s:
        made = s.execute(select(Contact).where(Contact.email == EMAIL)).scalar_one_or_none()
        mails = list(s.execute(select(OutboxEmail.subject).where(OutboxEmail.to_email == EMAIL)).scalars())
    assert made is not None and made.status == "pending_confirmation"
    assert len(mails) == 1, "one confirmation email, asked once"
