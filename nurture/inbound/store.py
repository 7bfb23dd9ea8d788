"""Persisting events and routing them, all in one transaction per request.

`event_row` is the one builder of an `event` row, whatever door it came through. Inserts use
`INSERT ... ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`, so a re-delivered event is skipped by the
database itself (also when two deliveries race) and only new events are routed. Rows are inserted sorted by
their key and contacts suppressed in id order (`nurture.consent.suppress`): two overlapping batches then wait for
each other in one order and never deadlock on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, or_, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from nurture import sendgrid_args
from nurture.consent import suppress
from nurture.db import ContactStatus, bulk_insert
from nurture.db.one_of import one_of
from nurture.db.tables import CONTACT, EVENT, REJECTED_EVENT
from nurture.inbound import outbox
from nurture.inbound.routing import Action, OutboxSignal, Routable, action_for, exit_reason, signals_for
from nurture.inbound.sendgrid_events import Batch, ParsedEvent, RejectedIn
from nurture.outbound.evidence import Evidence, evidence_from, settle_by_evidence
from nurture.redaction import Redactor

BULK_FROM = 16  # rows from which PostgreSQL inserts go through COPY (fewer: one plain statement is cheaper)


@dataclass
class Stored:
    """What one request changed."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    signals: int = 0
    rejected: int = 0
    suppressed: list[int] = field(default_factory=list)
    event_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "signals_queued": self.signals,
            "contacts_suppressed": len(self.suppressed),
            "rejected": self.rejected,
        }


def event_row(
    *,
    dedupe_key: str,
    kind: str,
    source: str,
    occurred_at: datetime,
    received_at: datetime,
    contact_id: int | None = None,
    anonymous_id: str | None = None,
    journey: str | None = None,
    item_id: str | None = None,
    url: str | None = None,
    topic: str | None = None,
    machine: bool = False,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The one builder of an `event` row (insert it with `insert_events`)."""
    return {
        "dedupe_key": dedupe_key,
        "contact_id": contact_id,
        "anonymous_id": anonymous_id,
        "kind": kind,
        "source": source,
        "occurred_at": occurred_at,
        "received_at": received_at,
        "journey": journey,
        "item_id": item_id,
        "url": url,
        "topic": topic,
        "machine": machine,
        "data": data or {},
    }


def insert_events(conn: Connection, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert the new events; {dedupe_key: id} of the inserted ones (duplicates are skipped)."""
    return insert_ignoring_duplicates(conn, EVENT, rows, "dedupe_key")


def insert_ignoring_duplicates(conn: Connection, table: Table, rows: list[dict[str, Any]], key: str) -> dict[str, int]:
    """Insert rows whose `key` is new; {key: id} of the inserted ones (both dialects, one statement per chunk).

    Rows go in sorted by `key`: concurrent inserts of overlapping keys then wait in one order, never in a cycle.
    A few rows on PostgreSQL take one Core statement; more go through `nurture.db.bulk_insert` (COPY into a
    staging table, then one INSERT ... SELECT), as every batch does on SQLite."""
    if not rows:
        return {}
    if conn.dialect.name == "postgresql" and len(rows) < BULK_FROM:
        ordered = sorted(rows, key=lambda row: str(row[key]))
        stmt = postgresql.insert(table).on_conflict_do_nothing(index_elements=[key]).returning(table.c.id, table.c[key])
        return {k: i for i, k in conn.execute(stmt, ordered)}
    return bulk_insert.insert_new(conn, table, rows, key)


def contact_statuses(conn: Connection, ids: set[int], emails: set[str]) -> tuple[dict[int, str], dict[str, int]]:
    """{id: status} for the known ids, and {email: id} for the known emails (one statement)."""
    c = CONTACT.c
    status: dict[int, str] = {}
    by_email: dict[str, int] = {}
    where = [one_of(conn, c.id, sorted(ids))] if ids else []
    if emails:
        where.append(one_of(conn, c.email, sorted(emails)))
    if where:
        for i, s, email in conn.execute(select(c.id, c.status, c.email).where(or_(*where))):
            status[i] = s
            if email in emails:
                by_email[email] = i
    return status, by_email


def store_rejected(conn: Connection, rejected: Sequence[RejectedIn], source: str, now: datetime) -> int:
    """Keep the unusable events of a valid delivery with their reasons."""
    if rejected:
        rows = [
            {"source": source, "received_at": now, "position": r.position, "reason": r.reason, "raw": r.raw}
            for r in rejected
        ]
        bulk_insert.insert_all(conn, REJECTED_EVENT, rows)
    return len(rejected)


def route(
    conn: Connection,
    events: Sequence[Routable],
    now: datetime,
    statuses: dict[int, str],
    *,
    redactor: Redactor,
) -> Stored:
    """Suppress contacts with exit events and queue the signals new events owe their journeys (URLs in them
    reduced by `redactor`)."""
    ordered = sorted(events, key=lambda e: (e.occurred_at, e.event_id))
    reasons: dict[int, str] = {}
    for ev in ordered:
        if ev.action is Action.EXIT:
            reasons.setdefault(ev.contact_id, exit_reason(ev.kind))
    result = Stored(suppressed=suppress(conn, reasons, now))
    suppressed = {i for i, s in statuses.items() if s == ContactStatus.SUPPRESSED} | set(reasons)
    journeys = outbox.journeys_of(conn, {e.contact_id for e in ordered if e.action is not Action.STORE})
    signals: list[OutboxSignal] = []
    for ev in ordered:
        if ev.action is Action.ENGAGE and ev.contact_id in suppressed:
            continue  # stored and scored, but an unsubscribed contact's journeys are ending
        signals += signals_for(ev, journeys.get(ev.contact_id, []), redactor)
    result.signals = outbox.write(conn, signals, now)
    return result


def store_sendgrid_batch(conn: Connection, batch: Batch, now: datetime, *, redactor: Redactor) -> Stored:
    """Store a parsed batch (its rejected events too) and route its new events. Call inside one transaction."""
    events = batch.events
    unique: dict[str, ParsedEvent] = {}
    for ev in events:
        unique.setdefault(ev.dedupe_key, ev)
    statuses, by_email = contact_statuses(
        conn,
        {e.contact_id for e in unique.values() if e.contact_id is not None},
        {e.email for e in unique.values() if e.email},
    )

    contacts: list[tuple[ParsedEvent, int | None]] = []
    rows = []
    for ev in unique.values():
        # the contact the custom args name if it exists, else the one with the address
        contact_id = ev.contact_id if ev.contact_id in statuses else by_email.get(ev.email) if ev.email else None
        contacts.append((ev, contact_id))
        rows.append(
            event_row(
                dedupe_key=ev.dedupe_key,
                kind=ev.kind,
                source="sendgrid",
                occurred_at=ev.occurred_at,
                received_at=now,
                contact_id=contact_id,
                journey=ev.journey,
                item_id=ev.item_id,
                url=ev.url,
                machine=ev.machine,
                data=ev.data if contact_id is not None or not ev.email else {**ev.data, "email": ev.email},
            )
        )
    inserted = insert_events(conn, rows)
    routable = []
    for ev, contact_id in contacts:
        event_id = inserted.get(ev.dedupe_key)
        if event_id is None or contact_id is None:
            continue
        action = action_for(ev)
        if action is Action.STORE:
            continue  # stored is all it does: routing would neither suppress nor signal
        routable.append(
            Routable(
                event_id=event_id,
                contact_id=contact_id,
                kind=ev.kind,
                action=action,
                occurred_at=ev.occurred_at,
                journey=ev.journey,
                item_id=ev.item_id,
                url=ev.url,
            )
        )
    result = route(conn, routable, now, statuses, redactor=redactor)  # click URLs carry PII too
    settle_by_evidence(conn, _evidence(contacts))  # sends of unknown outcome become sent
    result.rejected = store_rejected(conn, batch.rejected, "sendgrid", now)
    result.received, result.stored = len(events) + len(batch.rejected), len(inserted)
    result.duplicates = len(events) - len(inserted)
    result.event_ids = sorted(inserted.values())
    return result


def _evidence(events: Iterable[tuple[ParsedEvent, int | None]]) -> list[Evidence]:
    """The earliest event naming each touch (a message's several events name the same one)."""
    touch = sendgrid_args.CUSTOM_ARG_TOUCH
    first: dict[Any, tuple[ParsedEvent, int | None]] = {}
    for ev, contact_id in events:
        named = ev.data.get(touch)
        if named is not None and type(named) is not list and type(named) is not dict:
            seen = first.get(named)
            if seen is None or ev.occurred_at < seen[0].occurred_at:
                first[named] = (ev, contact_id)
    found = (
        evidence_from(named, ev.occurred_at, contact_id, ev.data.get("sg_message_id"))
        for named, (ev, contact_id) in first.items()
    )
    return [e for e in found if e is not None]
