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

from sqlalchemy import func, update
from sqlalchemy.engine import Connection

from nurture.db import Touch, TouchStatus
from nurture.inbound.outbox import table

TOUCH = table(Touch)
UNSETTLED = (TouchStatus.SENDING.value, TouchStatus.UNCONFIRMED.value)


@dataclass(frozen=True)
class Evidence:
    """One provider event naming a touch (and, when known, its contact and message id)."""

    touch_id: int
    occurred_at: datetime
    contact_id: int | None = None
    message_id: str | None = None


def settle_by_evidence(conn: Connection, evidence: Iterable[Evidence]) -> list[int]:
    """Mark unsettled touches the provider reported on as `sent`; the ids that changed."""
    settled: list[int] = []
    seen: set[int] = set()
    t = TOUCH.c
    for ev in sorted(evidence, key=lambda e: e.occurred_at):
        if ev.touch_id in seen:
            continue
        seen.add(ev.touch_id)
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
    """Evidence from a webhook event's fields (`custom_args` are strings), or None if it names no touch."""
    if not isinstance(touch_id, str | int) or not str(touch_id).isdigit():
        return None
    message = str(sg_message_id).split(".", 1)[0] if isinstance(sg_message_id, str) and sg_message_id else None
    return Evidence(int(touch_id), occurred_at, contact_id, message)
