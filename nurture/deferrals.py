"""The one writer of a waiting drop's cancellation: once a contact may no longer be mailed, nothing waits for it.

Called in the same transaction as the change that ends mailing (`nurture.consent.record_consent` suppressing,
`nurture.inbound.privacy.erase_contact`), and by the drop claim when it finds the contact suppressed. So a drop
deferred by a cap, the gap or quiet time never stays `waiting` after an unsubscribe, bounce, complaint or erase:
it is `cancelled` with the reason, whether or not its journey ever comes back to claim it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.engine import Connection

from nurture.db import DeferredState
from nurture.db.tables import DEFERRED_DROP


def cancel_waiting(conn: Connection, contact_id: int, now: datetime, why: str) -> int:
    """Every waiting drop of the contact becomes `cancelled` with `why`; returns how many."""
    d = DEFERRED_DROP.c
    done = conn.execute(
        update(DEFERRED_DROP)
        .where(d.contact_id == contact_id, d.state == DeferredState.WAITING.value)
        .values(state=DeferredState.CANCELLED.value, reason=why[:500], updated_at=now)
    )
    return int(done.rowcount or 0)
