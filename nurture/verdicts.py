"""Sales' verdict on a handoff: the one writer of a Handoff row's verdict and of its "no feedback in time".

Every writer calls this module: the doors (the CRM's HTTP call and the CLI, through `nurture.inbound.sales`,
which also tells the journey) and the journey's activities (`activities/handoff.py`). One conditional write
decides, on SQLite and PostgreSQL alike: the first verdict for a handoff still waiting wins, a verdict is never
changed, and the journey's own timeout record loses to a verdict that reached the row first. A verdict newly
recorded moves the contact's lifecycle stage here too (`nurture.lifecycle.acceptance`), so the CRM's door, the CLI
and a verdict the journey heard directly as a signal all move it, exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from nurture import temporal_names
from nurture.db import HandoffStatus
from nurture.db.tables import HANDOFF
from nurture.inbound import outbox
from nurture.inbound.routing import OutboxSignal
from nurture.lifecycle.acceptance import after_verdict

VERDICTS = (HandoffStatus.ACCEPTED.value, HandoffStatus.REJECTED.value)
REASON_CHARS = 500


class UnknownHandoffError(LookupError):
    """No such handoff."""


class VerdictRefusedError(ValueError):
    """The handoff already has another verdict, or its journey stopped waiting."""


class Taken(Enum):
    """What `take_verdict` did."""

    RECORDED = "recorded"  # this verdict is now the handoff's
    SAME = "same"  # the same verdict was recorded before: nothing new


@dataclass(frozen=True)
class HandoffVerdict:
    handoff_id: int
    contact_id: int
    journey: str
    status: str
    taken: Taken


def verdict_status(accepted: bool) -> str:
    return HandoffStatus.ACCEPTED.value if accepted else HandoffStatus.REJECTED.value


def take_verdict(
    conn: Connection, handoff_id: int, accepted: bool, reason: str, now: datetime, *, tell_journey: bool = False
) -> HandoffVerdict:
    """Record sales' verdict if the handoff still waits for one, then move the contact's stage. Raises
    `VerdictRefusedError` when another verdict was recorded first or the journey stopped waiting,
    `UnknownHandoffError` when there is no such handoff.

    `tell_journey` (the doors): queue the verdict for the journey in the outbox, before the customer journey's
    enrollment (the relay delivers a contact's rows in id order). The journey's own activity heard it already."""
    h = HANDOFF.c
    verdict = verdict_status(accepted)
    taken = conn.execute(
        update(HANDOFF)
        .where(h.id == handoff_id, h.feedback_at.is_(None), h.status.not_in(VERDICTS))
        .values(status=verdict, feedback_at=now, feedback_reason=reason[:REASON_CHARS])
    )
    row = conn.execute(select(h.contact_id, h.journey, h.status).where(h.id == handoff_id)).first()
    if row is None:
        raise UnknownHandoffError(f"no handoff {handoff_id}")
    contact_id, journey, status = row
    if taken.rowcount == 1:
        if tell_journey:
            payload = {"accepted": accepted, "reason": reason, "handoff_id": handoff_id}
            signal = OutboxSignal(contact_id, None, journey, temporal_names.SIGNAL_SALES_FEEDBACK, payload)
            outbox.write(conn, [signal], now)
        after_verdict(conn, contact_id, handoff_id, accepted, reason, now)
        return HandoffVerdict(handoff_id, contact_id, journey, verdict, Taken.RECORDED)
    if status == verdict:
        return HandoffVerdict(handoff_id, contact_id, journey, status, Taken.SAME)
    if status in VERDICTS:
        raise VerdictRefusedError(f"handoff {handoff_id} was already {status}: a verdict is not changed")
    raise VerdictRefusedError(f"handoff {handoff_id} timed out without feedback; the contact is back in nurture")


@dataclass(frozen=True)
class EarlierVerdict:
    """A verdict that reached the row before the journey's timeout did."""

    status: str
    reason: str

    def as_payload(self) -> dict[str, Any]:
        return {"verdict": self.status, "reason": self.reason}


def record_no_feedback(conn: Connection, handoff_id: int, reason: str, now: datetime) -> EarlierVerdict | None:
    """The journey stopped waiting without an answer. Written only if no verdict reached the row first; if one
    did (its signal still on the way), that verdict is returned for the journey to act on."""
    h = HANDOFF.c
    taken = conn.execute(
        update(HANDOFF)
        .where(h.id == handoff_id, h.status.not_in(VERDICTS))
        .values(feedback_reason=reason[:REASON_CHARS], feedback_at=now)
    )
    if taken.rowcount == 1:
        return None
    row = conn.execute(select(h.status, h.feedback_reason).where(h.id == handoff_id)).first()
    if row is None:
        raise UnknownHandoffError(f"no handoff {handoff_id}")
    return EarlierVerdict(row.status, row.feedback_reason or "")


def open_handoff(conn: Connection, contact_id: int, journey: str | None) -> int | None:
    """The newest handoff of the contact (in `journey`, if given) still waiting for sales."""
    h = HANDOFF.c
    query = select(h.id).where(h.contact_id == contact_id, h.feedback_at.is_(None), h.status.not_in(VERDICTS))
    if journey is not None:
        query = query.where(h.journey == journey)
    found = conn.execute(query.order_by(h.id.desc()).limit(1)).scalar()
    return None if found is None else int(found)
