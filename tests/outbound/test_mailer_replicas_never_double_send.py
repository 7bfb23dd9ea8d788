"""Three mailers (as in three API processes) on one database send every queued confirmation exactly once."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from activities.email import build_sender
from nurture.clock import utcnow
from nurture.config import Settings
from nurture.db import Touch
from nurture.db.engine import session_scope
from nurture.fakes.sendgrid import FakeSendGrid
from nurture.inbound.confirmation import send_confirmation
from nurture.outbound.mailer import TransactionalMailer
from tests.api.payloads import add_contact

MESSAGES = 40


@pytest.mark.slow
def test_three_mailers_send_every_confirmation_once(
    engine: Engine, sendgrid_settings: Settings, fake_sendgrid: FakeSendGrid
) -> None:
    now = utcnow()
    for n in range(MESSAGES):
        cid = add_contact(engine, f"m{n}@corp.example")
        with engine.begin() as conn:
            send_confirmation(conn, sendgrid_settings, cid, now)
    mailers = [
        TransactionalMailer(sendgrid_settings, engine, build_sender(sendgrid_settings, engine), batch_size=7)
        for _ in range(3)
    ]
    start = threading.Barrier(len(mailers))
    sent_by: list[int] = [0, 0, 0]

    def run(n: int) -> None:
        start.wait()
        for _ in range(20):
            sent_by[n] += mailers[n].send_queued().sent

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(mailers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    recipients = [r for m in fake_sendgrid.messages for r in m.recipients]
    assert len(recipients) == len(set(recipients)) == MESSAGES  # each once
    assert sum(sent_by) == MESSAGES
    with session_scope(engine) as s:
        statuses = set(s.exec(select(Touch.status).where(Touch.channel == "transactional")).scalars())  # type: ignore[call-overload]
    assert statuses == {"sent"}
