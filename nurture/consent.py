"""The one writer of consent: every grant, confirmation and withdrawal is a new `Consent` row.

`record_consent` appends the row and, in the same transaction, brings the contact's `status` cache in line with
it (active, pending_confirmation or suppressed; a customer stays a customer while consent holds). Nothing else
writes those statuses. Rules it enforces for every caller:

- a `granted` row cannot activate a contact that is pending confirmation or suppressed: only `confirmed` can
  (anyone can type an address into a form, only its owner can press the button behind the emailed link);
- `requested` never demotes an active contact;
- `withdrawn` / `suppressed` always suppress; the first reason is kept;
- `preferences` (a choice in the preference center) never changes the status: unsubscribing there is `withdrawn`.

Doors, activities and the CLI call it (activities may: this module is plumbing, not `nurture.inbound`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from nurture.db import ConsentAction, ContactStatus, LawfulBasis
from nurture.db.tables import CONSENT, CONTACT
from nurture.deferrals import cancel_waiting

ENDS_CONSENT = frozenset({ConsentAction.WITHDRAWN, ConsentAction.SUPPRESSED})
# the address cannot take mail; nobody withdrew anything
NOT_CONSENT_REASONS = frozenset({"bounce", "dropped", "suppressed"})

# Suppressions no confirmation mail may be sent over, whoever fills in a form with the address: it bounced or was
# dropped (mail to it fails and costs the sender's reputation), or its owner reported our mail as spam.
NO_CONFIRMATION_AFTER = frozenset({"bounce", "dropped", "spamreport", "complaint"})


class ConsentRefusedError(ValueError):
    """The change would activate a contact without a confirmed opt-in."""


@dataclass(frozen=True)
class ConsentChange:
    """One consent change as a door, activity or import saw it."""

    action: ConsentAction
    source: str  # a form URL, "one-click", "unsubscribe page", "sendgrid", "journey", ...
    actor: str  # who made the call: public, api-token, contact-token, sendgrid, journey, cli
    occurred_at: datetime
    wording: str | None = None  # a form id or the words agreed to
    lawful_basis: LawfulBasis = LawfulBasis.CONSENT
    ip: str | None = None
    user_agent: str | None = None
    reason: str | None = None  # why a contact is suppressed: unsubscribe, complaint, bounce, dropped


def status_after(current: ContactStatus | None, action: ConsentAction) -> ContactStatus:
    """The status a contact has after `action` (None: a contact being created)."""
    if action in ENDS_CONSENT:
        return ContactStatus.SUPPRESSED
    if action is ConsentAction.CONFIRMED:
        return ContactStatus.CUSTOMER if current is ContactStatus.CUSTOMER else ContactStatus.ACTIVE
    if action is ConsentAction.PREFERENCES:
        if current is None:
            raise ConsentRefusedError("a preference is recorded for an existing contact only")
        return current
    if action is ConsentAction.REQUESTED:
        return ContactStatus.PENDING_CONFIRMATION if current is None else current
    if current in (ContactStatus.PENDING_CONFIRMATION, ContactStatus.SUPPRESSED):
        raise ConsentRefusedError(f"a {current.value} contact becomes active only by confirming its opt-in")
    return current or ContactStatus.ACTIVE


def record_consent(
    conn: Connection, contact_id: int, change: ConsentChange, now: datetime, *, new_contact: bool = False
) -> ContactStatus:
    """Append the consent row and update the contact's status cache; returns the new status.

    `new_contact`: the row was inserted in this transaction (its placeholder status is not a state yet).
    """
    c = CONTACT.c
    query = select(c.status).where(c.id == contact_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()  # concurrent changes to one contact apply one after the other
    found = conn.execute(query).scalar()
    if found is None:
        raise LookupError(f"no contact {contact_id}")
    current = ContactStatus(found)
    status = status_after(None if new_contact else current, change.action)
    conn.execute(
        insert(CONSENT).values(
            contact_id=contact_id,
            action=change.action.value,
            source=change.source[:200],
            wording=change.wording[:500] if change.wording else None,
            lawful_basis=change.lawful_basis.value,
            ip=change.ip[:64] if change.ip else None,
            user_agent=change.user_agent[:500] if change.user_agent else None,
            actor=change.actor[:60],
            occurred_at=change.occurred_at,
            recorded_at=now,
        )
    )
    values: dict[str, object] = {}
    if status is ContactStatus.SUPPRESSED and current is not ContactStatus.SUPPRESSED:
        reason = change.reason or ("unsubscribe" if change.action is ConsentAction.WITHDRAWN else "suppressed")
        values = {"suppressed_reason": reason[:60], "suppressed_at": now}
        cancel_waiting(conn, contact_id, now, f"contact suppressed ({reason[:60]})")  # nothing waits for it now
    elif status is not ContactStatus.SUPPRESSED and current is ContactStatus.SUPPRESSED:
        values = {"suppressed_reason": None, "suppressed_at": None}
    if status is not current or values:
        conn.execute(update(CONTACT).where(c.id == contact_id).values(status=status.value, updated_at=now, **values))
    return status


def suppress(
    conn: Connection, reasons: Mapping[int, str], now: datetime, *, actor: str = "event", source: str = "event"
) -> list[int]:
    """Suppress contacts for exit events ({contact_id: reason}); the ids that were not suppressed before.

    An already suppressed contact keeps its first reason and gets no new row (its event is stored anyway).
    """
    changed = []
    c = CONTACT.c
    for contact_id, reason in sorted(reasons.items()):
        status = conn.execute(select(c.status).where(c.id == contact_id)).scalar()
        if status is None or status == ContactStatus.SUPPRESSED:
            continue
        action = ConsentAction.SUPPRESSED if reason in NOT_CONSENT_REASONS else ConsentAction.WITHDRAWN
        change = ConsentChange(action, source=source, actor=actor, occurred_at=now, reason=reason)
        record_consent(conn, contact_id, change, now)
        changed.append(contact_id)
    return changed


def history(conn: Connection, contact_id: int) -> list[dict[str, object]]:
    """The contact's consent trail, oldest first."""
    k = CONSENT.c
    rows = conn.execute(
        select(k.action, k.source, k.wording, k.lawful_basis, k.ip, k.user_agent, k.actor, k.occurred_at, k.recorded_at)
        .where(k.contact_id == contact_id)
        .order_by(k.id)
    )
    return [dict(r._mapping) for r in rows]
