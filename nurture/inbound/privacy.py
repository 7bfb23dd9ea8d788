"""The right of access and the right to be forgotten (GDPR): export every fact held, erase a contact.

Tables are discovered from SQLModel metadata: every table with a `contact_id` column is exported, and erased
by its policy below; a table nobody gave a policy (a new one) has its rows deleted, so new tables are covered
without anyone remembering to. Erasure runs in the caller's one transaction:

- every running journey of the contact gets an exit through the outbox (Temporal holds only ids);
- rows that only exist for the person (preferences, visitors, rendered mail, unknown tables) are deleted;
- rows that feed aggregate counts (touches, events, scores, enrollments, deliveries, handoffs) are kept with
  their free-text and identifying columns cleared;
- the contact row stays as a tombstone without personal data (status suppressed, reason `erased`), so counts
  and foreign keys hold;
- a SHA-256 of the normalised address is kept in `erased_address`, so an opt-in with it later is suppressed;
- an `erasure` row records who, when and why, without personal data. Erasing twice changes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from nurture import temporal_names
from nurture.db import ContactStatus
from nurture.db.tables import (
    CONTACT,
    ENROLLMENT,
    ERASED_ADDRESS,
    ERASURE,
    EVENT,
    OUTBOX_EMAIL,
    SIGNAL_OUTBOX,
    TOUCH,
    VISITOR,
)
from nurture.deferrals import cancel_waiting
from nurture.inbound import outbox, signup_inbox
from nurture.inbound.routing import OutboxSignal

ERASED = "erased"

# table -> columns cleared when the rows are kept (their other columns are ids, kinds, times and counts)
KEEP_ANONYMISED: dict[str, dict[str, Any]] = {
    "touch": {"error": None},
    "event": {"url": None, "data": {}, "anonymous_id": None},
    "score": {},
    "enrollment": {},
    "broadcastdelivery": {},
    "signaloutbox": {"payload": {}, "last_error": None},
    "handoff": {"context": {}, "crm_response": None, "feedback_reason": None},
    "deferred_drop": {},
    "bulk_operation_item": {},
}
NEVER_TOUCHED = {"contact", "erasure"}


def not_erased() -> ColumnElement[bool]:
    """The contact row is no erasure's tombstone (for a query on `contact`)."""
    return CONTACT.c.suppressed_reason.is_distinct_from(ERASED)


def address_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def is_erased(conn: Connection, email: str) -> bool:
    """True if this address belonged to a contact that asked to be forgotten: it is never mailed again."""
    found = conn.execute(
        select(ERASED_ADDRESS.c.address_hash).where(ERASED_ADDRESS.c.address_hash == address_hash(email))
    )
    return found.first() is not None


def contact_tables() -> list[Table]:
    """Every table holding a `contact_id`, in dependency order (children last)."""
    return [t for t in SQLModel.metadata.sorted_tables if "contact_id" in t.c and t.name not in NEVER_TOUCHED]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def export_contact(conn: Connection, contact_id: int) -> dict[str, Any]:
    """Every fact held about the contact, by table (LookupError if there is no such contact)."""
    person = conn.execute(select(CONTACT).where(CONTACT.c.id == contact_id)).mappings().one_or_none()
    if person is None:
        raise LookupError(f"no contact {contact_id}")
    facts: dict[str, Any] = {"contact": {k: _plain(v) for k, v in person.items()}}
    for table in contact_tables():
        rows = conn.execute(select(table).where(table.c.contact_id == contact_id)).mappings().all()
        facts[table.name] = [{k: _plain(v) for k, v in row.items()} for row in rows]
    visitors = [v["anonymous_id"] for v in facts.get("visitor", [])]
    if visitors:  # what they did before they identified themselves is theirs too
        anonymous = conn.execute(select(EVENT).where(EVENT.c.anonymous_id.in_(visitors), EVENT.c.contact_id.is_(None)))
        facts["event"] += [{k: _plain(v) for k, v in row.items()} for row in anonymous.mappings()]
    touch_ids = [t["id"] for t in facts.get("touch", [])]
    mails = conn.execute(select(OUTBOX_EMAIL).where(OUTBOX_EMAIL.c.touch_id.in_(touch_ids))) if touch_ids else None
    facts["outboxemail"] = [{k: _plain(v) for k, v in r.items()} for r in mails.mappings()] if mails else []
    return {"contact_id": contact_id, "tables": facts}


@dataclass(frozen=True)
class ErasureResult:
    contact_id: int
    already_erased: bool
    rows_deleted: int
    rows_anonymised: int
    exits_queued: int
    erased_at: datetime


def erase_contact(conn: Connection, contact_id: int, now: datetime, *, requested_by: str, reason: str) -> ErasureResult:
    """Forget the contact in this transaction (idempotent; LookupError if there never was such a contact)."""
    done = conn.execute(select(ERASURE).where(ERASURE.c.contact_id == contact_id)).mappings().one_or_none()
    if done is not None:
        return ErasureResult(contact_id, True, done["rows_deleted"], done["rows_anonymised"], 0, done["erased_at"])
    c = CONTACT.c
    email = conn.execute(select(c.email).where(c.id == contact_id)).scalar_one_or_none()
    if email is None:
        raise LookupError(f"no contact {contact_id}")
    # opt-ins answered and not yet stored go first: a signup worker holds its inbox row and then locks the contact,
    # so taking them in the other order could deadlock with it
    deleted = signup_inbox.forget_address(conn, email)
    # lock the contact row: a drop being claimed right now finishes first or sees the tombstone
    person = conn.execute(select(c.email).where(c.id == contact_id).with_for_update()).one()
    running = select(ENROLLMENT.c.journey).where(ENROLLMENT.c.contact_id == contact_id, ENROLLMENT.c.ended_at.is_(None))
    journeys = sorted(set(conn.execute(running).scalars()))
    conn.execute(  # journeys not started yet never will be
        delete(SIGNAL_OUTBOX).where(
            SIGNAL_OUTBOX.c.contact_id == contact_id,
            SIGNAL_OUTBOX.c.signal == outbox.ENROLL,
            SIGNAL_OUTBOX.c.delivered_at.is_(None),
        )
    )
    cancel_waiting(conn, contact_id, now, "contact erased")  # kept for the counts, never sent
    anonymised = 0
    touch_ids = select(TOUCH.c.id).where(TOUCH.c.contact_id == contact_id)
    deleted += conn.execute(delete(OUTBOX_EMAIL).where(OUTBOX_EMAIL.c.touch_id.in_(touch_ids))).rowcount
    visitors = select(VISITOR.c.anonymous_id).where(VISITOR.c.contact_id == contact_id)
    conn.execute(update(EVENT).where(EVENT.c.anonymous_id.in_(visitors)).values(url=None, data={}, anonymous_id=None))
    for table in reversed(contact_tables()):
        mine = table.c.contact_id == contact_id
        if table.name in KEEP_ANONYMISED:
            cleared = KEEP_ANONYMISED[table.name]
            anonymised += conn.execute(update(table).where(mine).values(**cleared)).rowcount if cleared else 0
        else:
            deleted += conn.execute(delete(table).where(mine)).rowcount
    conn.execute(
        update(CONTACT)
        .where(c.id == contact_id)
        .values(
            email=f"erased-{contact_id}@erased.invalid",
            first_name="",
            last_name="",
            company="",
            topics=[],
            time_zone="UTC",
            country=None,
            consent_source=ERASED,
            consent_at=None,
            consent_ip=None,
            status=ContactStatus.SUPPRESSED.value,
            suppressed_reason=ERASED,
            suppressed_at=now,
            last_send_error=None,
            updated_at=now,
        )
    )
    anonymised += 1
    payload = {"reason": ERASED, "event_id": None}
    exits = [OutboxSignal(contact_id, None, j, temporal_names.SIGNAL_EXIT, payload) for j in journeys]
    exits_queued = outbox.write(conn, exits, now)  # after the outbox rows were cleared: these must keep theirs
    hashed = address_hash(person.email)
    if (
        conn.execute(select(ERASED_ADDRESS.c.address_hash).where(ERASED_ADDRESS.c.address_hash == hashed)).first()
        is None
    ):
        conn.execute(insert(ERASED_ADDRESS).values(address_hash=hashed, erased_at=now))
    conn.execute(
        insert(ERASURE).values(
            contact_id=contact_id,
            requested_by=requested_by[:120],
            reason=reason[:500],
            rows_deleted=deleted,
            rows_anonymised=anonymised,
            erased_at=now,
        )
    )
    return ErasureResult(contact_id, False, deleted, anonymised, exits_queued, now)
