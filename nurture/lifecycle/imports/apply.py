"""Applying a parsed import in the caller's transaction: resolve every line's contact, then write by natural keys.

- contacts: created when the email is new (never opted in here: `pending_confirmation`, so nothing is mailed
  until they confirm); each field kept as a fact with its source, replaced only when that source wins
  (`definitions.leads.sources`); `lifecycle_stage` moves the stage as an import (it may move back: the source says so).
- orders: a purchase row per (source, order_id); a new one is a `purchase` event, makes the contact a customer
  (forward, or back onto the line from a detour), ends every nurture journey of the contact at once (an exit
  signal with the goal, through the transactional outbox) and enrolls it in the customer journey.
- attendance: a row per (event, contact); attending is an `event_attended` event (it scores) and makes a
  subscriber a lead.
Contacts that changed get their lead row refreshed (fit, score, rank). A second import of the same file finds
every natural key present and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from definitions.leads.sources import wins
from definitions.leads.stages import CUSTOMER, CUSTOMER_JOURNEY, LEAD
from nurture import temporal_names as names
from nurture.db import ContactStatus
from nurture.db.tables import ATTENDANCE, CONTACT, CONTACT_FACT, EVENT, EXTERNAL_REF, PURCHASE, upsert
from nurture.inbound import outbox
from nurture.inbound.routing import OutboxSignal
from nurture.lifecycle.imports.parse import (
    CONTACT_COLUMNS,
    AttendanceLine,
    ContactLine,
    LineError,
    OrderLine,
    Record,
    parse,
)
from nurture.lifecycle.leads import refresh_lead
from nurture.lifecycle.stages import advance_to, move_stage
from workflows.lifecycle import ActorKind

EXTERNAL_SYSTEM = "crm"
CHUNK = 500


class ImportRefusedError(ValueError):
    """The file has bad lines: nothing was imported."""

    def __init__(self, errors: list[LineError]) -> None:
        super().__init__(f"{len(errors)} bad line(s), nothing imported: " + "; ".join(map(str, errors[:5])))
        self.errors = errors


@dataclass
class ImportResult:
    kind: str
    lines: int = 0
    created: int = 0  # new contacts, orders or attendances
    changed: int = 0  # facts written over (or beside) what was there
    unchanged: int = 0  # lines whose facts were all known already
    stages_moved: int = 0
    journeys_ended: int = 0
    contacts: set[int] = field(default_factory=set)

    def as_dict(self) -> dict[str, int | str]:
        return {
            "kind": self.kind,
            "lines": self.lines,
            "created": self.created,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "stages_moved": self.stages_moved,
            "journeys_ended": self.journeys_ended,
            "contacts_touched": len(self.contacts),
        }


def import_file(
    conn: Connection,
    kind: str,
    text: str,
    *,
    name: str,
    now: datetime,
    source: str = "crm",
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Import `text` (CSV) of `kind`; raises ImportRefusedError naming every bad line, having written nothing."""
    records, errors = parse(kind, text, source)
    contacts, resolve_errors = _resolve(conn, kind, records)
    errors = sorted([*errors, *resolve_errors], key=lambda e: e.line)
    if errors:
        raise ImportRefusedError(errors)
    result = ImportResult(kind, lines=len(records))
    for done, record in enumerate(records, start=1):
        cid = contacts.get(record.line)
        if isinstance(record, ContactLine):
            cid = _apply_contact(conn, record, cid, name, now, result)
        elif isinstance(record, OrderLine):
            assert cid is not None
            _apply_order(conn, record, cid, name, now, result)
        elif isinstance(record, AttendanceLine):
            assert cid is not None
            _apply_attendance(conn, record, cid, name, now, result)
        if progress is not None:
            progress(done, len(records))
    for cid in sorted(result.contacts):
        refresh_lead(conn, cid, now)
    return result


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for i in range(0, len(values), CHUNK):
        yield values[i : i + CHUNK]


def _resolve(conn: Connection, kind: str, records: list[Record]) -> tuple[dict[int, int | None], list[LineError]]:
    """{line: contact id (None: to be created)}, and the lines whose contact cannot be found or is ambiguous."""
    emails = sorted({r.key.email for r in records if r.key.email})
    externals = sorted({r.key.external_id for r in records if r.key.external_id})
    by_email: dict[str, int] = {}
    for part in _chunks(emails):
        rows = conn.execute(select(CONTACT.c.email, CONTACT.c.id).where(CONTACT.c.email.in_(part)))
        by_email.update({row.email: row.id for row in rows})
    by_external: dict[str, int] = {}
    x = EXTERNAL_REF.c
    for part in _chunks(externals):
        query = select(x.external_id, x.contact_id).where(x.system == EXTERNAL_SYSTEM, x.external_id.in_(part))
        by_external.update({row.external_id: row.contact_id for row in conn.execute(query)})
    found: dict[int, int | None] = {}
    errors: list[LineError] = []
    claimed: dict[str, tuple[int, str | None]] = {}  # external id -> (line, email) within this file
    for r in records:
        email_id = by_email.get(r.key.email) if r.key.email else None
        external_id = by_external.get(r.key.external_id) if r.key.external_id else None
        if email_id is not None and external_id is not None and email_id != external_id:
            errors.append(LineError(r.line, f"email and external_id {r.key.external_id} name different contacts"))
            continue
        if r.key.external_id and kind == "contacts":
            first = claimed.setdefault(r.key.external_id, (r.line, r.key.email))
            if first[1] != r.key.email:
                errors.append(LineError(r.line, f"external_id {r.key.external_id} is also on line {first[0]}"))
                continue
            if external_id is None and r.key.email is None:
                errors.append(LineError(r.line, f"unknown external_id {r.key.external_id} and no email to create it"))
                continue
        cid = email_id if email_id is not None else external_id
        if cid is None and kind != "contacts":
            who = r.key.email or f"external_id {r.key.external_id}"
            errors.append(LineError(r.line, f"no contact with {who} (import contacts first)"))
            continue
        found[r.line] = cid
    return found, errors


def _apply_contact(
    conn: Connection, r: ContactLine, cid: int | None, name: str, now: datetime, result: ImportResult
) -> int:
    touched = False
    if cid is None:
        assert r.key.email is not None
        values = {c: r.facts.get(c, "")[:200] for c in CONTACT_COLUMNS}
        cid = conn.execute(
            insert(CONTACT)
            .values(
                email=r.key.email,
                **values,
                persona="general",
                time_zone="UTC",
                topics=[],
                status=ContactStatus.PENDING_CONFIRMATION.value,
                consent_source=f"import:{r.source}",
                created_at=now,
                updated_at=now,
            )
            .returning(CONTACT.c.id)
        ).scalar_one()
        result.created += 1
        touched = True
    if r.key.external_id:
        stmt = upsert(conn, EXTERNAL_REF).values(system=EXTERNAL_SYSTEM, external_id=r.key.external_id, contact_id=cid)
        touched |= conn.execute(stmt.on_conflict_do_nothing().returning(EXTERNAL_REF.c.id)).first() is not None
    f = CONTACT_FACT.c
    known = {row.field: row for row in conn.execute(select(f.field, f.value, f.source).where(f.contact_id == cid))}
    for fact, value in r.facts.items():
        current = known.get(fact)
        if (current is not None and current.value == value) or not wins(fact, r.source, current and current.source):
            continue
        row = {"contact_id": cid, "field": fact, "value": value, "source": r.source, "updated_at": now}
        stmt = upsert(conn, CONTACT_FACT).values(**row)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["contact_id", "field"], set_={"value": value, "source": r.source, "updated_at": now}
            )
        )
        if fact in CONTACT_COLUMNS:
            conn.execute(update(CONTACT).where(CONTACT.c.id == cid).values({fact: value[:200], "updated_at": now}))
        result.changed += 1
        touched = True
    if r.stage is not None:
        why = f"{r.source} import says {r.stage}"
        moved = move_stage(conn, cid, r.stage, actor=ActorKind.IMPORT, actor_id=name, why=why, now=now)
        result.stages_moved += moved.moved
        touched |= moved.moved
    if touched:
        result.contacts.add(cid)
    else:
        result.unchanged += 1
    return int(cid)


def _event(
    conn: Connection, cid: int, kind: str, dedupe: str, at: datetime, now: datetime, data: dict[str, str]
) -> int:
    stmt = upsert(conn, EVENT).values(
        dedupe_key=dedupe[:200], contact_id=cid, kind=kind, source="import", occurred_at=at, received_at=now,
        machine=False, data=data,
    )  # fmt: skip
    found = conn.execute(stmt.on_conflict_do_nothing().returning(EVENT.c.id)).scalar()
    if found is None:
        found = conn.execute(select(EVENT.c.id).where(EVENT.c.dedupe_key == dedupe[:200])).scalar_one()
    return int(found)


def _apply_order(conn: Connection, r: OrderLine, cid: int, name: str, now: datetime, result: ImportResult) -> None:
    row = {
        "source": r.source, "order_id": r.order_id, "contact_id": cid, "amount": r.amount, "currency": r.currency,
        "product": r.product, "ordered_at": r.ordered_at,
    }  # fmt: skip
    new = conn.execute(upsert(conn, PURCHASE).values(**row).on_conflict_do_nothing().returning(PURCHASE.c.id)).first()
    if new is None:
        result.unchanged += 1
        return
    result.created += 1
    result.contacts.add(cid)
    data = {"order_id": r.order_id, "source": r.source, "product": r.product}
    event_id = _event(conn, cid, "purchase", f"import:order:{r.source}:{r.order_id}", r.ordered_at, now, data)
    why = f"order {r.order_id} ({r.source})"
    moved = advance_to(conn, cid, CUSTOMER, actor=ActorKind.IMPORT, actor_id=name, why=why, now=now, detours=True)
    result.stages_moved += moved.moved
    c = CONTACT.c
    conn.execute(
        update(CONTACT)
        .where(c.id == cid, c.status == ContactStatus.ACTIVE.value)
        .values(status=ContactStatus.CUSTOMER.value, updated_at=now)
    )
    payload = {"reason": names.EXIT_GOAL_REACHED, "goal": names.GOAL_PURCHASE, "event_id": str(event_id)}
    journeys = outbox.journeys_of(conn, [cid]).get(cid, [])
    signals = [OutboxSignal(cid, event_id, j, names.SIGNAL_EXIT, payload) for j in journeys if j != CUSTOMER_JOURNEY]
    result.journeys_ended += outbox.write(conn, signals, now)
    if CUSTOMER_JOURNEY not in journeys:  # after the exits: the relay delivers a contact's rows in id order
        outbox.write(conn, outbox.enroll_rows(cid, [CUSTOMER_JOURNEY]), now)


def _apply_attendance(
    conn: Connection, r: AttendanceLine, cid: int, name: str, now: datetime, result: ImportResult
) -> None:
    row = {"event_key": r.event, "contact_id": cid, "status": r.status, "attended_at": r.attended_at}
    stmt = upsert(conn, ATTENDANCE).values(**row).on_conflict_do_nothing().returning(ATTENDANCE.c.id)
    if conn.execute(stmt).first() is None:
        result.unchanged += 1
        return
    result.created += 1
    result.contacts.add(cid)
    if r.status != "attended":
        return
    _event(conn, cid, "event_attended", f"import:attendance:{r.event}:{cid}", r.attended_at, now, {"event": r.event})
    why = f"attended {r.event}"
    moved = advance_to(conn, cid, LEAD, actor=ActorKind.IMPORT, actor_id=name, why=why, now=now)
    result.stages_moved += moved.moved


def apply_purchase(conn: Connection, contact_id: int, order: OrderLine, name: str, now: datetime) -> ImportResult:
    """One order for a known contact, as an orders import applies it (idempotent by source and order id)."""
    result = ImportResult("orders", lines=1)
    _apply_order(conn, order, contact_id, name, now, result)
    return result
