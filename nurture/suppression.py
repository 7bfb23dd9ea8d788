"""The one writer of contact suppression: never email this contact again, and remember why and since when.

Doors (a webhook unsubscribe, a one-click unsubscribe) and activities (a journey that ended on a bounce) both
call `suppress`; it runs in the caller's transaction. Contacts are updated in id order, so two transactions
suppressing overlapping sets of contacts lock them in the same order and never deadlock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Table, update
from sqlalchemy.engine import Connection

from nurture.db import Contact, ContactStatus

CONTACT: Table = Contact.__table__  # type: ignore[attr-defined]
REASON_MAX = 60


def suppress(conn: Connection, reasons: Mapping[int, str], now: datetime) -> list[int]:
    """Suppress each contact with its reason; the ids that changed (already suppressed ones keep their reason)."""
    c = CONTACT.c
    changed = []
    for contact_id in sorted(reasons):
        result = conn.execute(
            update(CONTACT)
            .where(c.id == contact_id, c.status != ContactStatus.SUPPRESSED.value)
            .values(
                status=ContactStatus.SUPPRESSED.value,
                suppressed_reason=reasons[contact_id][:REASON_MAX],
                suppressed_at=now,
                updated_at=now,
            )
        )
        if result.rowcount:
            changed.append(contact_id)
    return changed
