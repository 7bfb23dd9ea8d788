"""The preference center's one writer: topics, frequency and snooze, stored, recorded and told to journeys.

A choice applies at once where drops are decided: the drop claim reads `preference` (frequency, snooze) and
`contact.topics` (a broadcast on a topic the contact dropped is declined). Each change is also recorded as a
consent row (`record_choice`, through the one consent writer `nurture.consent.record_consent`, action
`preferences`, which never changes the contact's status) and an event in its history, and is signalled
through the outbox to the contact's running journeys, ids and choices only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from nurture import temporal_names
from nurture.caps import Frequency
from nurture.consent import ConsentChange, record_consent
from nurture.db import ConsentAction, ContactStatus
from nurture.db.tables import CONTACT, EVENT, PREFERENCE
from nurture.inbound import outbox
from nurture.inbound.routing import OutboxSignal

SNOOZE_DAYS = (30, 60, 90)


@dataclass(frozen=True)
class Choice:
    """What the contact chose; topics None = unchanged, snooze_days 0 = end any snooze."""

    topics: tuple[str, ...] | None
    frequency: Frequency
    snooze_days: int | None = None

    def __post_init__(self) -> None:
        if self.snooze_days not in (None, 0, *SNOOZE_DAYS):
            raise ValueError(f"snooze is 30, 60 or 90 days, not {self.snooze_days}")


@dataclass(frozen=True)
class Current:
    topics: tuple[str, ...]
    frequency: Frequency
    snoozed_until: datetime | None
    status: str


def current(conn: Connection, contact_id: int) -> Current:
    """What the page shows (LookupError for an unknown contact)."""
    c, p = CONTACT.c, PREFERENCE.c
    person = conn.execute(select(c.topics, c.status).where(c.id == contact_id)).one_or_none()
    if person is None:
        raise LookupError(f"no contact {contact_id}")
    pref = conn.execute(select(p.frequency, p.snoozed_until).where(p.contact_id == contact_id)).one_or_none()
    return Current(
        topics=tuple(person.topics),
        frequency=Frequency(pref.frequency) if pref else Frequency.ANY,
        snoozed_until=pref.snoozed_until if pref else None,
        status=person.status,
    )


def save(conn: Connection, contact_id: int, choice: Choice, now: datetime) -> int:
    """Store the choice, record it, and queue a signal to each running journey; the number of signals."""
    before = current(conn, contact_id)
    if before.status == ContactStatus.SUPPRESSED:
        raise PermissionError("this contact unsubscribed: there is nothing to choose")
    topics = list(choice.topics) if choice.topics is not None else list(before.topics)
    snoozed_until = before.snoozed_until
    if choice.snooze_days is not None:
        snoozed_until = now + timedelta(days=choice.snooze_days) if choice.snooze_days else None
    values = {"topics": topics, "frequency": choice.frequency.value, "snoozed_until": snoozed_until, "updated_at": now}
    p = PREFERENCE.c
    if conn.execute(select(p.contact_id).where(p.contact_id == contact_id)).first() is None:
        conn.execute(insert(PREFERENCE).values(contact_id=contact_id, **values))
    else:
        conn.execute(update(PREFERENCE).where(p.contact_id == contact_id).values(**values))
    conn.execute(update(CONTACT).where(CONTACT.c.id == contact_id).values(topics=topics, updated_at=now))
    changes: dict[str, Any] = {}
    if tuple(topics) != before.topics:
        changes["topics"] = topics
    if choice.frequency != before.frequency:
        changes["frequency"] = choice.frequency.value
    if snoozed_until != before.snoozed_until:
        changes["snoozed_until"] = snoozed_until.isoformat() if snoozed_until else None
    for kind, value in changes.items():
        record_choice(conn, contact_id, f"preference_{kind}", {kind: value}, now)
    if not changes:
        return 0
    journeys = outbox.journeys_of(conn, [contact_id]).get(contact_id, [])
    payload = {"contact_id": contact_id, **changes}
    signals = [OutboxSignal(contact_id, None, j, temporal_names.SIGNAL_PREFERENCES, payload) for j in journeys]
    return outbox.write(conn, signals, now)


def record_choice(conn: Connection, contact_id: int, kind: str, data: dict[str, Any], now: datetime) -> None:
    """One choice as a consent row (who: the contact through its signed link; what, in `wording`; when) and as
    an event in the contact's history."""
    what = "; ".join(f"{k}={_shown(v)}" for k, v in data.items())
    change = ConsentChange(
        ConsentAction.PREFERENCES, source="preference center", actor="contact-token", occurred_at=now, wording=what
    )
    record_consent(conn, contact_id, change, now)
    conn.execute(
        insert(EVENT).values(
            dedupe_key=f"web:{kind}:{uuid.uuid4().hex}",
            contact_id=contact_id,
            kind=kind,
            source="preference_center",
            occurred_at=now,
            received_at=now,
            machine=False,
            data=data,
        )
    )


def _shown(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, list):
        return ",".join(str(v) for v in value) or "none"
    return str(value)
