"""The touch rows a drop reads and writes (`activities.drop`): the contact's touches the claim looks at, the
claim's INSERT or UPDATE, the settle, a replay.

The state machine they implement is documented at the top of `activities.drop`; this module only reads and
writes rows. The statements that run on every drop are built once, with bound parameters: building a statement
and its cache key cost more CPU than SQLite spends running it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, bindparam, case, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import BindParameter
from sqlmodel import Session

from nurture.caps import DROP_CHANNEL
from nurture.clock import utcnow
from nurture.db import Touch, TouchStatus
from nurture.db.tables import CONTACT, TOUCH
from nurture.logging import get_logger
from workflows.payloads import SendDropInput, SendDropResult

log = get_logger(__name__)

UNSETTLED = (TouchStatus.SENDING, TouchStatus.UNCONFIRMED)
# A touch in one of these reached the contact, or may have, or is reaching it now: it counts for the caps and the
# minimum gap, and its item is never sent to the contact again.
REACHING = (TouchStatus.SENT, TouchStatus.UNCONFIRMED, TouchStatus.SENDING)
LONGEST_LOOKBACK = timedelta(days=62)  # covers a monthly cap counted from local midnight

_REACHING = [str(st) for st in REACHING]
TouchRow = Row[*tuple[Any, ...]]
_SINCE: BindParameter[datetime] = bindparam("b_since")
# The rules, stated once: the statement filters on them and returns them, so the claim's Python never restates them.
_REACHES = TOUCH.c.status.in_(_REACHING)  # this touch reached the contact, or may have, or is reaching it
_RECENT_DROP = and_(  # a drop (transactional mail never counts) reaching the contact since the caps' lookback
    TOUCH.c.channel == DROP_CHANNEL,
    _REACHES,
    or_(TOUCH.c.sent_at > _SINCE, TOUCH.c.sent_at.is_(None) & (TOUCH.c.created_at > _SINCE)),
)
# The touch with this drop's key, this item's touches from any journey, and the contact's recent drops: the
# claim's three questions (an earlier attempt of this drop, the item already sent by another journey, the sends
# the caps count) in one statement (the key's unique index, ix_touch_contact_item, ix_touch_contact_sent). The
# key is looked up whoever's it is, as the key's unique index will judge the claim's INSERT.
_CONTACT_TOUCHES = select(
    TOUCH.c.id, TOUCH.c.idempotency_key, TOUCH.c.contact_id, TOUCH.c.item_id, TOUCH.c.journey, TOUCH.c.sent_at,
    TOUCH.c.created_at, _REACHES.label("reaching"), _RECENT_DROP.label("recent_drop"),
).where(
    or_(
        TOUCH.c.idempotency_key == bindparam("b_key"),
        and_(TOUCH.c.contact_id == bindparam("b_contact"), or_(TOUCH.c.item_id == bindparam("b_item"), _RECENT_DROP)),
    ),
)  # fmt: skip
_SETTLE = {
    retrying: update(TOUCH)
    .where(TOUCH.c.id == bindparam("b_touch"), TOUCH.c.status.in_([str(st) for st in UNSETTLED]))
    .values(
        status=bindparam("b_status"),
        error=bindparam("b_error"),
        message_id=bindparam("b_message"),
        sent_at=bindparam("b_sent_at"),
        **({"attempts": case((TOUCH.c.attempts > 0, TOUCH.c.attempts - 1), else_=0)} if retrying else {}),
    )
    for retrying in (False, True)
}
_SETTLE_CONTACT = (
    update(CONTACT)
    .where(CONTACT.c.id == bindparam("b_contact"))
    .values(last_send_error=bindparam("b_error"), updated_at=bindparam("b_now"))
)
_INSERT_TOUCH = insert(TOUCH).returning(TOUCH.c.id)


@dataclass(frozen=True)
class ContactTouches:
    """What a claim needs from the contact's touches (`contact_touches`)."""

    key: str
    contact_id: int
    item_id: str
    rows: list[TouchRow]

    def own(self) -> int | None:
        """An earlier attempt of this very drop (the touch's id), if there was one."""
        return next((r.id for r in self.rows if r.idempotency_key == self.key), None)

    def _others(self) -> Iterator[TouchRow]:
        """The contact's touches from other drops (the key's touch may be another contact's)."""
        return (r for r in self.rows if r.contact_id == self.contact_id and r.idempotency_key != self.key)

    def earlier(self) -> TouchRow | None:
        """This item reaching the contact through another drop (any journey, a broadcast), if it has."""
        return next((r for r in self._others() if r.item_id == self.item_id and r.reaching), None)

    def sends(self) -> list[datetime]:
        """When the contact's other drops reached it (or are reaching it) within the lookback: what the caps count."""
        return [r.sent_at or r.created_at for r in self._others() if r.recent_drop]


def contact_touches(conn: Connection, contact_id: int, item_id: str, key: str, now: datetime) -> ContactTouches:
    given = {"b_key": key, "b_contact": contact_id, "b_item": item_id, "b_since": now - LONGEST_LOOKBACK}
    return ContactTouches(key, contact_id, item_id, list(conn.execute(_CONTACT_TOUCHES, given)))


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
    sent_at = inp.now if status in (TouchStatus.SENT, TouchStatus.UNCONFIRMED) else None
    settled = conn.execute(
        _SETTLE[status == TouchStatus.RETRYING],  # the provider certainly did not take a retrying one
        {"b_touch": touch_id, "b_status": str(status), "b_error": error, "b_message": message_id, "b_sent_at": sent_at},
    ).rowcount
    if settled and status in (TouchStatus.SENT, TouchStatus.FAILED):
        last_error = error if status == TouchStatus.FAILED else None
        conn.execute(_SETTLE_CONTACT, {"b_contact": inp.contact_id, "b_error": last_error, "b_now": inp.now})


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
        touch.id = s.connection().execute(_INSERT_TOUCH, touch.model_dump(exclude={"id"})).scalar_one()
        return touch
    s.add(touch)
    s.flush()
    return touch
