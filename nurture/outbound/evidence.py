"""Settling a send by the provider's own evidence: an event about a message proves the provider took it.

A send whose outcome is unknown (the client timed out, or the process died mid-call) leaves its touch `sending`
or `unconfirmed`. SendGrid reports every message it accepted (`processed` within seconds, then `delivered`,
`open`, ...), each event carrying the touch id from `custom_args`. The webhook store calls `settle_by_evidence`
in its transaction: such a touch becomes `sent`. The sender (`activities.drop`, `nurture.outbound.mailer`)
waits a configured window for this evidence before it may send once more.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from nurture.db import TouchStatus
from nurture.db.one_of import one_of
from nurture.db.tables import TOUCH
from nurture.db.types import ROW_ID_MAX

UNSETTLED = (TouchStatus.SENDING.value, TouchStatus.UNCONFIRMED.value)
_ID_DIGITS = 20  # more digits than any id has: not even parsed


@dataclass(frozen=True)
class Evidence:
    """One provider event naming a touch (and, when known, its contact and message id)."""

    touch_id: int
    occurred_at: datetime
    contact_id: int | None = None
    message_id: str | None = None


def settle_by_evidence(conn: Connection, evidence: Iterable[Evidence]) -> list[int]:
    """Mark unsettled touches the provider reported on as `sent`; the ids that changed.

    Nearly every event of a batch names a touch that is long settled: one SELECT finds the few still unsettled,
    and only those get an UPDATE (which checks the status again, so a touch settled meanwhile is left alone)."""
    first: dict[int, Evidence] = {}
    for ev in sorted(evidence, key=lambda e: e.occurred_at):
        first.setdefault(ev.touch_id, ev)
    if not first:
        return []
    t = TOUCH.c
    named = one_of(conn, t.id, sorted(first))
    unsettled = conn.execute(select(t.id).where(named, t.status.in_(UNSETTLED))).scalars().all()
    settled: list[int] = []
    for ev in sorted((first[i] for i in unsettled), key=lambda e: e.occurred_at):
        where = [t.id == ev.touch_id, t.status.in_(UNSETTLED)]
        if ev.contact_id is not None:
            where.append(t.contact_id == ev.contact_id)
        changed = conn.execute(
            update(TOUCH)
            .where(*where)
            .values(
                status=TouchStatus.SENT.value,
                error=None,
                message_id=func.coalesce(t.message_id, ev.message_id),
                sent_at=func.coalesce(t.sent_at, ev.occurred_at),
            )
        )
        if changed.rowcount:
            settled.append(ev.touch_id)
    return settled


def evidence_from(
    touch_id: object, occurred_at: datetime, contact_id: int | None, sg_message_id: object
) -> Evidence | None:
    """Evidence from a webhook event's fields (`custom_args` are strings), or None if it names no touch (an id
    beyond the INTEGER range names none: looking it up would fail the whole batch on PostgreSQL)."""
    if type(touch_id) is int and touch_id >= 0:
        number = touch_id
    elif isinstance(touch_id, str) and touch_id.isascii() and touch_id.isdigit() and len(touch_id) <= _ID_DIGITS:
        number = int(touch_id)
    else:
        return None
    if number > ROW_ID_MAX:
        return None
    message = str(sg_message_id).split(".", 1)[0] if isinstance(sg_message_id, str) and sg_message_id else None
    return Evidence(number, occurred_at, contact_id, message)
