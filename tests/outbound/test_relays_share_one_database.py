"""Three outbox relays on one database: every row is delivered once, each contact's rows in id order, even when
deliveries fail and are retried (backoff on the row) and relays interleave."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import cast

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from temporalio.client import Client

from nurture import temporal_names
from nurture.clock import utcnow
from nurture.config import Settings
from nurture.context import AppContext
from nurture.db.tables import SIGNAL_OUTBOX
from nurture.inbound import outbox
from nurture.inbound.contacts import ContactIn, upsert_contact
from nurture.inbound.routing import OutboxSignal
from nurture.outbound.relay import OutboxRelay, Outcome, Row
from nurture.redaction import Redactor

CONTACTS = 12
ROWS_EACH = 8


class RecordingRelay(OutboxRelay):
    """The real claim and mark; the Temporal call replaced by a recorder that sometimes fails once."""

    def __init__(self, name: str, ctx: AppContext, delivered: list[tuple[int, int, str]], seed: int) -> None:
        super().__init__(ctx, batch_size=10, concurrency=4, retry_base_seconds=0.01, max_backoff_seconds=0.05)
        self.name = name
        self.delivered = delivered
        self.seed = seed

    async def _deliver(self, row: Row) -> tuple[Outcome, str]:
        await asyncio.sleep((row.id * 37 + self.seed) % 11 / 1000)  # let the relays interleave
        if row.id % 7 == 0 and row.attempts == 0:
            return Outcome.RETRY, "transient failure (test)"
        self.delivered.append((row.contact_id, row.id, self.name))
        return Outcome.DELIVERED, ""


def seed_outbox(engine: Engine) -> dict[int, list[int]]:
    now = utcnow()
    with engine.begin() as conn:
        ids = [
            upsert_contact(
                conn,
                ContactIn(email=f"c{n}@corp.example", consent_source="test", consent_at=now),
                now,
                redactor=Redactor.of(),
            ).contact_id
            for n in range(CONTACTS)
        ]
        for k in range(ROWS_EACH):  # interleaved, in a different contact order each round
            turn = ids[k % len(ids) :] + ids[: k % len(ids)]
            order = turn if k % 2 else turn[::-1]
            signals = [OutboxSignal(cid, None, "b2b_drip", temporal_names.SIGNAL_ENGAGEMENT, {"k": k}) for cid in order]
            outbox.write(conn, signals, now)
        rows = conn.execute(select(SIGNAL_OUTBOX.c.contact_id, SIGNAL_OUTBOX.c.id).order_by(SIGNAL_OUTBOX.c.id)).all()
    expected: dict[int, list[int]] = defaultdict(list)
    for contact_id, row_id in rows:
        expected[contact_id].append(row_id)
    return expected


@pytest.mark.slow
async def test_three_relays_deliver_every_row_once_in_order_per_contact(engine: Engine) -> None:
    expected = seed_outbox(engine)
    ctx = AppContext(Settings(_env_file=None), engine, cast(Client, None))  # type: ignore[call-arg]
    delivered: list[tuple[int, int, str]] = []
    relays = [RecordingRelay(f"relay-{n}", ctx, delivered, seed=n) for n in range(3)]

    async def drain(relay: RecordingRelay) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 120
        while relay.pending() and loop.time() < deadline:
            await relay.deliver_pending()
            await asyncio.sleep(0)

    await asyncio.gather(*(drain(r) for r in relays))

    assert relays[0].pending() == 0
    ids = [row_id for _, row_id, _ in delivered]
    assert len(ids) == len(set(ids)) == sum(len(v) for v in expected.values())  # once each
    by_contact: dict[int, list[int]] = defaultdict(list)
    for contact_id, row_id, _ in delivered:
        by_contact[contact_id].append(row_id)
    assert dict(by_contact) == dict(expected)  # and in id order per contact
    assert len({name for *_, name in delivered}) >= 2  # the relays really shared the work
    with engine.connect() as conn:
        retried = conn.execute(select(SIGNAL_OUTBOX.c.id).where(SIGNAL_OUTBOX.c.attempts > 0)).scalars().all()
    assert retried and all(row_id % 7 == 0 for row_id in retried)  # backoff state lives on the row


async def test_a_contact_held_by_one_relay_is_skipped_by_another(engine: Engine) -> None:
    seed_outbox(engine)
    ctx = AppContext(Settings(_env_file=None), engine, cast(Client, None))  # type: ignore[call-arg]
    first, second = OutboxRelay(ctx, batch_size=5), OutboxRelay(ctx, batch_size=1000)
    held = first._claim("first")
    rest = second._claim("second")
    held_contacts = {r.contact_id for r in held}
    assert held and rest
    assert held_contacts.isdisjoint({r.contact_id for r in rest})
    assert not {r.id for r in held} & {r.id for r in rest}
