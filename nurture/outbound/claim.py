"""The outbox lease claim: which pending rows one relay pass takes, so no two relays hold the same contact.

A pass leases the oldest pending rows of every contact not held by another relay's lease or by a row waiting
for its retry time (`next_attempt_at`). On PostgreSQL the claim is one `UPDATE ... WHERE id IN (SELECT ... FOR
UPDATE SKIP LOCKED)` under a transaction advisory lock that serialises claims; on SQLite, a single writer, the
same conditional update is atomic by itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select, text, update
from sqlalchemy.engine import Engine

from nurture.clock import utcnow
from nurture.db.tables import SIGNAL_OUTBOX

CLAIM_LOCK = 7_340_001  # pg_advisory_xact_lock key serialising outbox claims across relays


@dataclass(frozen=True)
class Row:
    id: int
    contact_id: int
    journey: str | None
    signal: str
    payload: dict[str, Any]
    attempts: int


def claim_rows(engine: Engine, token: str, batch_size: int, lease: timedelta) -> list[Row]:
    """Lease the oldest pending rows of every contact that nobody holds; return them in id order."""
    now = utcnow()
    o = SIGNAL_OUTBOX.c
    held = SIGNAL_OUTBOX.alias("held")  # a contact is held while any pending row of it is leased or waiting to retry
    held_contacts = select(held.c.contact_id).where(
        held.c.delivered_at.is_(None), or_(held.c.lease_until > now, held.c.next_attempt_at > now)
    )
    candidates = (
        select(o.id)
        .where(o.delivered_at.is_(None), o.contact_id.not_in(held_contacts))
        .order_by(o.id)
        .limit(batch_size)
    )
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        candidates = candidates.with_for_update(skip_locked=True)
    claim = (
        update(SIGNAL_OUTBOX)
        .where(o.id.in_(candidates.scalar_subquery()))
        .values(claimed_by=token, lease_until=now + lease)
        .returning(o.id, o.contact_id, o.journey, o.signal, o.payload, o.attempts)
    )
    with engine.begin() as conn:
        if postgres:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLAIM_LOCK})
        rows = [Row(*r) for r in conn.execute(claim)]
    return sorted(rows, key=lambda r: r.id)
