"""The transactional outbox: signals owed to journeys, written in the caller's transaction.

Rows are delivered by `nurture.outbound.relay.OutboxRelay` in id order per contact. Besides journey signals, a row
can ask the relay to enroll the contact in a journey (`ENROLL`), so an opt-in accepted while Temporal is down
still starts its journeys once Temporal is back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from nurture.db import bulk_insert
from nurture.db.one_of import one_of
from nurture.db.tables import ENROLLMENT, SIGNAL_OUTBOX
from nurture.inbound.routing import OutboxSignal

ENROLL = "enroll_journey"  # pseudo-signal: the relay calls nurture.journey_client.enroll()


def write(conn: Connection, signals: Sequence[OutboxSignal], now: datetime) -> int:
    """Insert outbox rows in the given order (ids follow it: that is the delivery order per contact)."""
    if not signals:
        return 0
    bulk_insert.insert_all(
        conn,
        SIGNAL_OUTBOX,
        [
            {
                "contact_id": s.contact_id,
                "event_id": s.event_id,
                "journey": s.journey,
                "signal": s.signal,
                "payload": s.payload,
                "created_at": now,
                "attempts": 0,
            }
            for s in signals
        ],
    )
    return len(signals)


def enroll_rows(contact_id: int, journeys: Iterable[str], time_scale: float = 1.0) -> list[OutboxSignal]:
    return [OutboxSignal(contact_id, None, j, ENROLL, {"time_scale": time_scale}) for j in journeys]


def journeys_of(conn: Connection, contact_ids: Iterable[int]) -> dict[int, list[str]]:
    """Each contact's journeys that may still be running: enrolled and not ended, or enrollment still queued."""
    ids = sorted(set(contact_ids))
    found: dict[int, list[str]] = defaultdict(list)
    if not ids:
        return found
    e, o = ENROLLMENT.c, SIGNAL_OUTBOX.c
    enrolled = select(e.contact_id, e.journey).where(one_of(conn, e.contact_id, ids), e.ended_at.is_(None))
    queued = select(o.contact_id, o.journey).where(
        o.delivered_at.is_(None), o.signal == ENROLL, one_of(conn, o.contact_id, ids)
    )
    for contact_id, journey in [*conn.execute(enrolled), *conn.execute(queued)]:
        if journey is not None and journey not in found[contact_id]:
            found[contact_id].append(journey)
    return found
