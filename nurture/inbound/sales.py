"""Recording sales' verdict on a handoff, for every door (the CRM's HTTP call, the CLI).

One conditional write decides: the first verdict for a handoff that is still waiting wins, on SQLite and
PostgreSQL alike; the journey's own "no feedback in time" record (`record_no_feedback`) loses to a verdict.
The verdict goes to the transactional outbox in the same transaction, naming the handoff, so it reaches the
journey even while Temporal is down and never counts for a newer handoff.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from definitions.leads.stages import RECYCLED, SAL
from nurture import keys
from nurture.db import Handoff, HandoffStatus
from nurture.inbound import outbox
from nurture.inbound.routing import OutboxSignal
from nurture.lifecycle.stages import move_stage
from workflows.lifecycle import ActorKind

HANDOFF = outbox.table(Handoff)
VERDICTS = (HandoffStatus.ACCEPTED.value, HandoffStatus.REJECTED.value)


class UnknownHandoffError(LookupError):
    """No such handoff."""


class VerdictRefusedError(ValueError):
    """The handoff already has another verdict, or its journey stopped waiting."""


@dataclass(frozen=True)
class Verdict:
    handoff_id: int
    status: str
    queued: bool  # False: the same verdict was recorded before (nothing new to tell the journey)
    reason: str = ""


def record_verdict(conn: Connection, handoff_id: int, accepted: bool, reason: str, now: datetime) -> Verdict:
    h = HANDOFF.c
    verdict = HandoffStatus.ACCEPTED.value if accepted else HandoffStatus.REJECTED.value
    taken = conn.execute(
        update(HANDOFF)
        .where(h.id == handoff_id, h.feedback_at.is_(None), h.status.not_in(VERDICTS))
        .values(status=verdict, feedback_at=now, feedback_reason=reason[:500])
    )
    row = conn.execute(select(h.contact_id, h.journey, h.status).where(h.id == handoff_id)).first()
    if row is None:
        raise UnknownHandoffError(f"no handoff {handoff_id}")
    contact_id, journey, status = row
    if taken.rowcount != 1:
        if status == verdict:
            return Verdict(handoff_id, status, queued=False)
        if status in VERDICTS:
            raise VerdictRefusedError(f"handoff {handoff_id} was already {status}: a verdict is not changed")
        raise VerdictRefusedError(f"handoff {handoff_id} timed out without feedback; the contact is back in nurture")
    payload = {"accepted": accepted, "reason": reason, "handoff_id": handoff_id}
    outbox.write(conn, [OutboxSignal(contact_id, None, journey, keys.SIGNAL_SALES_FEEDBACK, payload)], now)
    why = reason or ("accepted by sales" if accepted else "rejected by sales")
    stage = SAL if accepted else RECYCLED
    move_stage(conn, contact_id, stage, actor=ActorKind.SALES, actor_id=f"handoff-{handoff_id}", why=why, now=now)
    return Verdict(handoff_id, verdict, queued=True)


def record_no_feedback(conn: Connection, handoff_id: int, reason: str, now: datetime) -> Verdict | None:
    """The journey stopped waiting without an answer. Written only if no verdict reached the row first; if one
    did (its signal still on the way), that verdict is returned for the journey to act on."""
    h = HANDOFF.c
    taken = conn.execute(
        update(HANDOFF)
        .where(h.id == handoff_id, h.status.not_in(VERDICTS))
        .values(feedback_reason=reason[:500], feedback_at=now)
    )
    if taken.rowcount == 1:
        return None
    row = conn.execute(select(h.status, h.feedback_reason).where(h.id == handoff_id)).first()
    if row is None:
        raise UnknownHandoffError(f"no handoff {handoff_id}")
    return Verdict(handoff_id, row.status, queued=False, reason=row.feedback_reason or "")


def open_handoff(conn: Connection, contact_id: int, journey: str | None) -> int | None:
    """The newest handoff of the contact (in `journey`, if given) still waiting for sales."""
    h = HANDOFF.c
    query = select(h.id).where(h.contact_id == contact_id, h.feedback_at.is_(None), h.status.not_in(VERDICTS))
    if journey is not None:
        query = query.where(h.journey == journey)
    found = conn.execute(query.order_by(h.id.desc()).limit(1)).scalar()
    return None if found is None else int(found)
