"""The touch row's writes for a drop (`activities.drop`): the claim's INSERT or UPDATE, the settle, a replay.

The state machine they implement is documented at the top of `activities.drop`; this module only writes rows.
"""

from __future__ import annotations

from sqlalchemy import case, insert, update
from sqlalchemy.engine import Connection
from sqlmodel import Session

from nurture.clock import utcnow
from nurture.db import Contact, Touch, TouchStatus
from nurture.logging import get_logger
from workflows.payloads import SendDropInput, SendDropResult

log = get_logger(__name__)

CONTACT, TOUCH = Contact.__table__, Touch.__table__  # type: ignore[attr-defined]
UNSETTLED = (TouchStatus.SENDING, TouchStatus.UNCONFIRMED)


def settle_touch(
    conn: Connection,
    touch_id: int,
    status: TouchStatus,
    inp: SendDropInput,
    *,
    error: str | None = None,
    message_id: str | None = None,
) -> None:
    """A claim's outcome on the touch, and on the contact for a send or a refusal: core statements.

    A slow attempt may finish after a retry marked its claim unconfirmed: what it learnt is better. A touch
    settled meanwhile (the provider's events reached the webhook first) keeps what it has.
    """
    values: dict[str, object] = {
        "status": str(status),
        "error": error,
        "message_id": message_id,
        "sent_at": inp.now if status in (TouchStatus.SENT, TouchStatus.UNCONFIRMED) else None,
    }
    if status == TouchStatus.RETRYING:  # the provider certainly did not take this one
        values["attempts"] = case((TOUCH.c.attempts > 0, TOUCH.c.attempts - 1), else_=0)
    settled = conn.execute(
        update(TOUCH).where(TOUCH.c.id == touch_id, TOUCH.c.status.in_([str(st) for st in UNSETTLED])).values(**values)
    ).rowcount
    if settled and status in (TouchStatus.SENT, TouchStatus.FAILED):
        conn.execute(
            update(CONTACT)
            .where(CONTACT.c.id == inp.contact_id)
            .values(last_send_error=error if status == TouchStatus.FAILED else None, updated_at=inp.now)
        )


def replay(touch: Touch) -> SendDropResult:
    """The result of an earlier attempt; a claim still `sending` becomes `unconfirmed` (never resent)."""
    if touch.status == TouchStatus.SENDING:
        touch.status = TouchStatus.UNCONFIRMED
        touch.sent_at = touch.created_at
        touch.error = "an earlier attempt stopped mid-send; not resent (at most once)"
        log.warning("drop.unconfirmed", touch_id=touch.id, contact_id=touch.contact_id, item_id=touch.item_id)
    detail = touch.error or "already recorded"
    return SendDropResult(status=str(touch.status), touch_id=touch.id, message_id=touch.message_id, detail=detail)


def upsert_touch(
    s: Session,
    touch: Touch | None,
    inp: SendDropInput,
    sender: str,
    status: TouchStatus,
    *,
    error: str | None = None,
    claimed: bool = False,
) -> Touch:
    fresh = touch is None
    if touch is None:
        touch = Touch(
            idempotency_key=f"{inp.workflow_id}:{inp.item_id}",
            contact_id=inp.contact_id,
            journey=inp.journey,
            workflow_id=inp.workflow_id,
            step=inp.step[:120],
            item_id=inp.item_id,
            broadcast_id=inp.broadcast_id,
            sender=sender,
            status=status,
            reason=inp.reason[:500],
            created_at=inp.now,
            variants=dict(inp.variants),
        )
    touch.status, touch.error, touch.sender, touch.created_at = status, error, sender, inp.now
    if claimed:  # claimed for a send now: one INSERT (or UPDATE) with the claim's wall-clock time and attempt
        touch.claimed_at, touch.attempts = utcnow(), (touch.attempts or 0) + 1
    if fresh:  # a first attempt (nearly every drop): one core INSERT, the row's id on the object
        touch.id = (
            s.connection()
            .execute(insert(TOUCH).values(touch.model_dump(exclude={"id"})).returning(TOUCH.c.id))
            .scalar_one()
        )
        return touch
    s.add(touch)
    s.flush()
    return touch
