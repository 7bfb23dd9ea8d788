"""Opt-in and opt-out: create or update a contact with its consent, confirm a double opt-in, unsubscribe.

Enrollment in the journeys whose entry rules match goes through the outbox (an `ENROLL` row per journey), so an
opt-in accepted while Temporal is down still starts its journeys later. Each function runs inside the caller's
transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from nurture.db import ContactStatus
from nurture.inbound import outbox
from nurture.inbound.routing import Action, Routable
from nurture.inbound.store import CONTACT, EVENT, Stored, insert_ignoring_duplicates, route
from nurture.inbound.web import identify
from workflows.dsl import journeys_for


class ConfirmRefusedError(ValueError):
    """The confirmation link is for a contact that opted out after the link was sent."""


@dataclass(frozen=True)
class ContactIn:
    """An opt-in. Profile fields left None keep the stored value (or the default for a new contact)."""

    email: str
    consent_source: str
    consent_at: datetime
    consent_ip: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    persona: str | None = None
    time_zone: str | None = None
    topics: tuple[str, ...] = ()
    double_opt_in: bool = False
    anonymous_id: str | None = None

    def profile(self) -> dict[str, Any]:
        names = ("first_name", "last_name", "company", "persona", "time_zone")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}


@dataclass
class ContactOutcome:
    contact_id: int
    status: str
    created: bool
    journeys: list[str] = field(default_factory=list)  # enrollment queued now
    needs_confirmation: bool = False
    stitched: Stored = field(default_factory=Stored)


def _audit(conn: Connection, contact_id: int, kind: str, now: datetime, data: dict[str, Any]) -> None:
    """Consent changes are events too: they show in the contact's history."""
    row = {
        "dedupe_key": f"web:{kind}:{uuid.uuid4().hex}",
        "contact_id": contact_id,
        "anonymous_id": None,
        "kind": kind,
        "source": "web",
        "occurred_at": now,
        "received_at": now,
        "journey": None,
        "item_id": None,
        "url": None,
        "topic": None,
        "machine": False,
        "data": data,
    }
    insert_ignoring_duplicates(conn, EVENT, [row], "dedupe_key")


def enroll_by_rules(
    conn: Connection, contact_id: int, persona: str, topics: list[str], now: datetime, time_scale: float
) -> list[str]:
    """Queue enrollment in every matching journey the contact is not already in."""
    current = outbox.journeys_of(conn, [contact_id]).get(contact_id, [])
    wanted = [j for j in journeys_for(persona, topics) if j not in current]
    outbox.write(conn, outbox.enroll_rows(contact_id, wanted, time_scale), now)
    return wanted


def upsert_contact(conn: Connection, inp: ContactIn, now: datetime, *, time_scale: float = 1.0) -> ContactOutcome:
    """Create or update the contact with its consent; enroll it, or ask it to confirm first.

    A suppressed contact stays suppressed until it confirms (double opt-in is forced): anyone can type an
    address into a form, only its owner can click the link.
    """
    email = inp.email.strip().lower()
    c = CONTACT.c
    consent = {"consent_source": inp.consent_source, "consent_at": inp.consent_at, "consent_ip": inp.consent_ip}
    initial = ContactStatus.PENDING_CONFIRMATION if inp.double_opt_in else ContactStatus.ACTIVE
    new_row = {
        "persona": "general",
        "time_zone": "UTC",
        "first_name": "",
        "last_name": "",
        "company": "",
        **inp.profile(),
        **consent,
        "email": email,
        "topics": list(inp.topics),
        "status": initial.value,
        "created_at": now,
        "updated_at": now,
    }
    created = insert_ignoring_duplicates(conn, CONTACT, [new_row], "email")
    row = conn.execute(select(c.id, c.status, c.persona, c.topics).where(c.email == email)).one()
    contact_id, status = row.id, ContactStatus(row.status)
    persona, topics = row.persona, list(row.topics)
    if email not in created:
        topics = list(dict.fromkeys([*topics, *inp.topics]))
        persona = inp.persona or persona
        if status is ContactStatus.PENDING_CONFIRMATION and not inp.double_opt_in:
            status = ContactStatus.ACTIVE
        values: dict[str, Any] = {**inp.profile(), "topics": topics, "status": status.value, "updated_at": now}
        if status is not ContactStatus.SUPPRESSED:
            values.update(consent)
        conn.execute(update(CONTACT).where(c.id == contact_id).values(**values))
    outcome = ContactOutcome(contact_id=contact_id, status=status.value, created=email in created)
    audit = {"source": inp.consent_source, "ip": inp.consent_ip, "double_opt_in": inp.double_opt_in}
    _audit(conn, contact_id, "form_fill", now, audit)  # a form fill counts toward the score
    if status is ContactStatus.ACTIVE:
        outcome.journeys = enroll_by_rules(conn, contact_id, persona, topics, now, time_scale)
    elif status in (ContactStatus.PENDING_CONFIRMATION, ContactStatus.SUPPRESSED):
        outcome.needs_confirmation = True
    if inp.anonymous_id:
        outcome.stitched = identify(conn, inp.anonymous_id, contact_id, now)
    return outcome


def confirm(
    conn: Connection, contact_id: int, issued_at: datetime, now: datetime, *, time_scale: float = 1.0
) -> ContactOutcome:
    """The contact clicked its confirmation link: activate (idempotent) and enroll."""
    c = CONTACT.c
    row = conn.execute(select(c.status, c.suppressed_at, c.persona, c.topics).where(c.id == contact_id)).one_or_none()
    if row is None:
        raise LookupError(f"no contact {contact_id}")
    status = ContactStatus(row.status)
    if status is ContactStatus.SUPPRESSED and row.suppressed_at is not None and row.suppressed_at > issued_at:
        raise ConfirmRefusedError("this contact unsubscribed after the confirmation link was sent")
    if status in (ContactStatus.PENDING_CONFIRMATION, ContactStatus.SUPPRESSED):
        conn.execute(
            update(CONTACT)
            .where(c.id == contact_id)
            .values(status=ContactStatus.ACTIVE.value, suppressed_reason=None, suppressed_at=None, updated_at=now)
        )
        _audit(conn, contact_id, "opt_in_confirmed", now, {})
        status = ContactStatus.ACTIVE
    outcome = ContactOutcome(contact_id=contact_id, status=status.value, created=False)
    if status is ContactStatus.ACTIVE:
        outcome.journeys = enroll_by_rules(conn, contact_id, row.persona, list(row.topics), now, time_scale)
    return outcome


def unsubscribe(conn: Connection, contact_id: int, now: datetime, *, how: str) -> Stored:
    """Suppress the contact and queue an exit for each of its journeys (same path as a webhook unsubscribe)."""
    c = CONTACT.c
    status = conn.execute(select(c.status).where(c.id == contact_id)).scalar()
    if status is None:
        raise LookupError(f"no contact {contact_id}")
    key = f"web:unsubscribe:{contact_id}:{int(now.timestamp()) // 60}"
    row = {
        "dedupe_key": key,
        "contact_id": contact_id,
        "anonymous_id": None,
        "kind": "unsubscribe",
        "source": "web",
        "occurred_at": now,
        "received_at": now,
        "journey": None,
        "item_id": None,
        "url": None,
        "topic": None,
        "machine": False,
        "data": {"how": how},
    }
    inserted = insert_ignoring_duplicates(conn, EVENT, [row], "dedupe_key")
    event_id = inserted.get(key)
    if event_id is None:  # the same click twice within a minute: already handled
        return Stored(received=1, duplicates=1)
    ev = Routable(event_id=event_id, contact_id=contact_id, kind="unsubscribe", action=Action.EXIT, occurred_at=now)
    result = route(conn, [ev], now, {contact_id: status})
    result.received, result.stored, result.event_ids = 1, 1, [event_id]
    return result
