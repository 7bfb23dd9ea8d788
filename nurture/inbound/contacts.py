"""Opt-in and opt-out: create or update a contact with its consent, confirm a double opt-in, unsubscribe.

Every consent change goes through `nurture.consent.record_consent` (a new row, never an overwrite).

Enrollment in the journeys whose entry rules match goes through the outbox (an `ENROLL` row per journey), so an
opt-in accepted while Temporal is down still starts its journeys later. Each function runs inside the caller's
transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from nurture.consent import NO_CONFIRMATION_AFTER, ConsentChange, record_consent
from nurture.consent import suppress as consent_suppress
from nurture.db import ConsentAction, ContactStatus
from nurture.db.tables import CONTACT, VISITOR
from nurture.inbound import outbox, privacy
from nurture.inbound.routing import Action, Routable
from nurture.inbound.store import Stored, event_row, insert_events, insert_ignoring_duplicates, route
from nurture.inbound.web import identify
from nurture.redaction import Redactor
from workflows.dsl import journeys_for

NO_URL = Redactor.of()  # an unsubscribe event carries no URL: nothing for the configured patterns to take out


class ConfirmRefusedError(ValueError):
    """The confirmation link is for a contact that opted out after the link was sent."""


class ProofMismatchError(PermissionError):
    """A contact token was presented for another contact's address."""


class Caller(StrEnum):
    """Who asks for an opt-in: a stranger at a public form, or a caller that proved it may act for the contact."""

    PUBLIC = "public"  # unauthenticated POST /contacts: may create a contact, never change an existing one
    API_TOKEN = "api-token"  # a trusted server-side integration
    CONTACT_TOKEN = "contact-token"  # a signed token from a link the contact received
    CLI = "cli"  # an operator with database access (nurture enroll)

    @property
    def may_change_existing(self) -> bool:
        return self is not Caller.PUBLIC

    @property
    def may_skip_confirmation(self) -> bool:
        """Single opt-in is for callers that already hold the contact's consent (an integration, an operator).
        A stranger at a public form only knows an address: it always has to be confirmed by its owner."""
        return self is not Caller.PUBLIC


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
    consent_wording: str | None = None  # the form id or the words agreed to
    user_agent: str | None = None

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
    key = f"web:{kind}:{uuid.uuid4().hex}"
    insert_events(
        conn,
        [
            event_row(
                dedupe_key=key,
                kind=kind,
                source="web",
                occurred_at=now,
                received_at=now,
                contact_id=contact_id,
                data=data,
            )
        ],
    )


def enroll_by_rules(
    conn: Connection, contact_id: int, persona: str, topics: list[str], now: datetime, time_scale: float
) -> list[str]:
    """Queue enrollment in every matching journey the contact is not already in."""
    current = outbox.journeys_of(conn, [contact_id]).get(contact_id, [])
    wanted = [j for j in journeys_for(persona, topics) if j not in current]
    outbox.write(conn, outbox.enroll_rows(contact_id, wanted, time_scale), now)
    return wanted


def _change(inp: ContactIn, action: ConsentAction, caller: Caller) -> ConsentChange:
    return ConsentChange(
        action,
        source=inp.consent_source,
        actor=caller.value,
        occurred_at=inp.consent_at,
        wording=inp.consent_wording,
        ip=inp.consent_ip,
        user_agent=inp.user_agent,
    )


def upsert_contact(
    conn: Connection,
    inp: ContactIn,
    now: datetime,
    *,
    time_scale: float = 1.0,
    caller: Caller = Caller.CLI,
    for_contact: int | None = None,
    redactor: Redactor,
) -> ContactOutcome:
    """Create the contact with its consent, or (for a caller with proof) update it; enroll it or ask it to confirm.

    A public caller never changes an existing contact: at most a confirmation email is owed to the address (the
    caller decides whether to send it, see `nurture.inbound.confirmation`). A pending or suppressed contact
    becomes active only by confirming, whoever posts. `for_contact`: the contact a contact token was signed for;
    the email must be that contact's.
    """
    email = inp.email.strip().lower()
    c = CONTACT.c
    if for_contact is not None:
        owner = conn.execute(select(c.email).where(c.id == for_contact)).scalar()
        if owner != email:
            raise ProofMismatchError("the contact token is for another address")
    double_opt_in = inp.double_opt_in or not caller.may_skip_confirmation
    action = ConsentAction.REQUESTED if double_opt_in else ConsentAction.GRANTED
    new_row = {
        "persona": "general",
        "time_zone": "UTC",
        "first_name": "",
        "last_name": "",
        "company": "",
        **inp.profile(),
        "consent_source": inp.consent_source,  # the first opt-in; the whole trail is in the consent table
        "consent_at": inp.consent_at,
        "consent_ip": inp.consent_ip,
        "email": email,
        "topics": list(inp.topics),
        "status": ContactStatus.PENDING_CONFIRMATION.value,  # until record_consent says otherwise
        "created_at": now,
        "updated_at": now,
    }
    created = email in insert_ignoring_duplicates(conn, CONTACT, [new_row], "email")
    row = conn.execute(select(c.id, c.status, c.persona, c.topics, c.suppressed_reason).where(c.email == email)).one()
    contact_id, status = row.id, ContactStatus(row.status)
    persona, topics = row.persona, list(row.topics)
    if privacy.is_erased(conn, email):  # forgotten on request: never mailed again, whatever a form says
        consent_suppress(conn, {contact_id: "erased"}, now, actor="erasure", source="erasure")
        return ContactOutcome(contact_id=contact_id, status=ContactStatus.SUPPRESSED.value, created=created)
    if created:
        status = record_consent(conn, contact_id, _change(inp, action, caller), now, new_contact=True)
    elif caller.may_change_existing:
        topics = list(dict.fromkeys([*topics, *inp.topics]))
        persona = inp.persona or persona
        values: dict[str, Any] = {**inp.profile(), "topics": topics, "updated_at": now}
        conn.execute(update(CONTACT).where(c.id == contact_id).values(**values))
        if status in (ContactStatus.ACTIVE, ContactStatus.CUSTOMER) and not inp.double_opt_in:
            status = record_consent(conn, contact_id, _change(inp, ConsentAction.GRANTED, caller), now)
        else:  # a pending confirmation is never skipped, a suppression never lifted, without confirming
            status = record_consent(conn, contact_id, _change(inp, ConsentAction.REQUESTED, caller), now)
    outcome = ContactOutcome(contact_id=contact_id, status=status.value, created=created)
    mailable = row.suppressed_reason not in NO_CONFIRMATION_AFTER  # no confirmation over a bounce or spam report
    if not created and not caller.may_change_existing:
        # a stranger knows the address: no score, no stitching, no enrollment; only the owner can act on it
        waiting = status in (ContactStatus.PENDING_CONFIRMATION, ContactStatus.SUPPRESSED)
        outcome.needs_confirmation = waiting and mailable
        return outcome
    audit = {"source": inp.consent_source, "ip": inp.consent_ip, "double_opt_in": double_opt_in}
    _audit(conn, contact_id, "form_fill", now, audit)  # a form fill counts toward the score
    if status in (ContactStatus.ACTIVE, ContactStatus.CUSTOMER):
        outcome.journeys = enroll_by_rules(conn, contact_id, persona, topics, now, time_scale)
    else:
        outcome.needs_confirmation = mailable
    if inp.anonymous_id and (caller.may_change_existing or not _linked_elsewhere(conn, inp.anonymous_id, contact_id)):
        outcome.stitched = identify(conn, inp.anonymous_id, contact_id, now, redactor=redactor)
    return outcome


def _linked_elsewhere(conn: Connection, anonymous_id: str, contact_id: int) -> bool:
    """A stranger's form fill never takes over a visitor id that already belongs to someone else."""
    owner = conn.execute(select(VISITOR.c.contact_id).where(VISITOR.c.anonymous_id == anonymous_id)).scalar()
    return owner is not None and owner != contact_id


def confirm(
    conn: Connection,
    contact_id: int,
    issued_at: datetime,
    now: datetime,
    *,
    time_scale: float = 1.0,
    ip: str | None = None,
    user_agent: str | None = None,
) -> ContactOutcome:
    """The contact pressed the button behind its confirmation link: activate (idempotent) and enroll."""
    c = CONTACT.c
    row = conn.execute(select(c.status, c.suppressed_at, c.persona, c.topics).where(c.id == contact_id)).one_or_none()
    if row is None:
        raise LookupError(f"no contact {contact_id}")
    status = ContactStatus(row.status)
    if status is ContactStatus.SUPPRESSED and row.suppressed_at is not None and row.suppressed_at > issued_at:
        raise ConfirmRefusedError("this contact unsubscribed after the confirmation link was sent")
    if status in (ContactStatus.PENDING_CONFIRMATION, ContactStatus.SUPPRESSED):
        change = ConsentChange(
            ConsentAction.CONFIRMED,
            source="confirmation link",
            actor="contact",
            occurred_at=now,
            ip=ip,
            user_agent=user_agent,
        )
        status = record_consent(conn, contact_id, change, now)
        _audit(conn, contact_id, "opt_in_confirmed", now, {})
    outcome = ContactOutcome(contact_id=contact_id, status=status.value, created=False)
    if status in (ContactStatus.ACTIVE, ContactStatus.CUSTOMER):
        outcome.journeys = enroll_by_rules(conn, contact_id, row.persona, list(row.topics), now, time_scale)
    return outcome


def unsubscribe(
    conn: Connection, contact_id: int, now: datetime, *, how: str, ip: str | None = None, user_agent: str | None = None
) -> Stored:
    """Suppress the contact and queue an exit for each of its journeys (same path as a webhook unsubscribe)."""
    c = CONTACT.c
    status = conn.execute(select(c.status).where(c.id == contact_id)).scalar()
    if status is None:
        raise LookupError(f"no contact {contact_id}")
    if status != ContactStatus.SUPPRESSED:  # the withdrawal is recorded first; route() then finds it suppressed
        actor = "cli" if how == "cli" else "link"  # the CLI's operator, or whoever holds the signed link
        change = ConsentChange(
            ConsentAction.WITHDRAWN,
            source=how,
            actor=actor,
            occurred_at=now,
            ip=ip,
            user_agent=user_agent,
            reason="unsubscribe",
        )
        status = record_consent(conn, contact_id, change, now).value
    key = f"web:unsubscribe:{contact_id}:{int(now.timestamp()) // 60}"
    row = event_row(
        dedupe_key=key,
        kind="unsubscribe",
        source="web",
        occurred_at=now,
        received_at=now,
        contact_id=contact_id,
        data={"how": how},
    )
    inserted = insert_events(conn, [row])
    event_id = inserted.get(key)
    if event_id is None:  # the same click twice within a minute: already handled
        return Stored(received=1, duplicates=1)
    ev = Routable(event_id=event_id, contact_id=contact_id, kind="unsubscribe", action=Action.EXIT, occurred_at=now)
    result = route(conn, [ev], now, {contact_id: status}, redactor=NO_URL)
    result.received, result.stored, result.event_ids = 1, 1, [event_id]
    return result
