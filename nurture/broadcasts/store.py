"""Broadcast rows and what journeys reported (BroadcastDelivery): queries over a caller's session.

Nothing here commits: callers own the unit of work (`nurture.db.engine.session_scope`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, exists, func
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from nurture.db import Broadcast, BroadcastDelivery, BroadcastState, Contact, ContactStatus
from nurture.db.broadcast_content import BroadcastContent, add_content
from nurture.db.one_of import one_of
from nurture.db.tables import BROADCAST, BROADCAST_DELIVERY

OUTCOMES = ("dropped", "deferred", "skipped", "failed")


def insert(session: Session, row: Broadcast, content: BroadcastContent | None = None) -> None:
    session.add(row)
    session.flush()
    if content is not None:
        add_content(session, content)


def recent(session: Session, limit: int) -> list[Broadcast]:
    return list(session.exec(select(Broadcast).order_by(col(Broadcast.created_at).desc()).limit(limit)).all())


def mark_started(session: Session, broadcast_id: str, by: str, now: datetime) -> None:
    """Draft -> running, with who started it (the workflow may have recorded progress already)."""
    row = session.get(Broadcast, broadcast_id)
    if row is None:
        raise LookupError(f"no broadcast {broadcast_id}")
    if row.state == BroadcastState.DRAFT:
        row.state = BroadcastState.RUNNING
    row.started_at = row.started_at or now
    row.counts = {**row.counts, "started_by": by}
    session.add(row)


def mark_cancelled(session: Session, broadcast_id: str, now: datetime) -> None:
    """A draft cancelled before it started."""
    row = session.get(Broadcast, broadcast_id)
    if row is None:
        raise LookupError(f"no broadcast {broadcast_id}")
    row.state, row.finished_at = BroadcastState.CANCELLED, now
    session.add(row)


def outcome_counts(session: Session, broadcast_id: str) -> dict[str, int]:
    """How many journeys reported each outcome (one row per journey: its latest outcome)."""
    rows = session.exec(
        select(BroadcastDelivery.outcome, func.count())
        .where(BroadcastDelivery.broadcast_id == broadcast_id)
        .group_by(BroadcastDelivery.outcome)
    ).all()
    counts = dict.fromkeys(OUTCOMES, 0)
    counts.update({outcome: int(n) for outcome, n in rows})
    return counts


def reported_among(session: Session, broadcast_id: str, workflow_ids: list[str]) -> set[str]:
    """Which of these journeys have reported on the broadcast (the fan-out's window asks about a few hundred at a
    time: index lookups on (broadcast_id, workflow_id), whatever the broadcast's size; the ids bound as one
    parameter, `nurture.db.one_of`)."""
    if not workflow_ids:
        return set()
    conn = session.connection()
    d = BROADCAST_DELIVERY.c
    return set(
        conn.execute(
            sa_select(d.workflow_id).where(d.broadcast_id == broadcast_id, one_of(conn, d.workflow_id, workflow_ids))
        ).scalars()
    )


def reasons(session: Session, broadcast_id: str, outcome: str, limit: int = 10) -> list[tuple[str, int]]:
    """The most common reasons journeys gave for one outcome (skips, failures), most common first."""
    n = func.count().label("n")
    rows = session.exec(
        select(BroadcastDelivery.reason, n)
        .where(BroadcastDelivery.broadcast_id == broadcast_id, BroadcastDelivery.outcome == outcome)
        .group_by(BroadcastDelivery.reason)
        .order_by(n.desc(), BroadcastDelivery.reason)
        .limit(limit)
    ).all()
    return [(reason, int(count)) for reason, count in rows]


def record_progress(
    session: Session,
    broadcast_id: str,
    state: str,
    counts: dict[str, Any],
    now: datetime,
    finished: bool,
    *,
    recount: bool = True,
) -> dict[str, int]:
    """What the broadcast workflow knows, plus what journeys reported, onto the audit row; returns the latter.

    Without `recount` the reports are not counted again (a count reads every row of the broadcast): the row
    keeps, and this returns, the last count."""
    row = session.get(Broadcast, broadcast_id)
    if row is None:
        raise LookupError(f"no broadcast {broadcast_id}")
    if recount:
        outcomes = outcome_counts(session, broadcast_id)
    else:
        outcomes = {outcome: int(row.counts.get(outcome, 0)) for outcome in OUTCOMES}
    row.state = BroadcastState(state)  # ValueError for a state the enum does not define
    row.counts = {**row.counts, **counts, **outcomes}
    if row.started_at is None:
        row.started_at = now
    if finished and row.finished_at is None:
        row.finished_at = now
    session.add(row)
    return outcomes


def contacts_by_id(session: Session, ids: list[int]) -> dict[int, Contact]:
    if not ids:
        return {}
    return {c.id: c for c in session.exec(select(Contact).where(col(Contact.id).in_(ids))).all() if c.id is not None}


def suppressed(session: Session, contact_ids: list[int]) -> dict[int, str]:
    """Which of these contacts are suppressed (unsubscribed, bounced, complained), and why."""
    if not contact_ids:
        return {}
    rows = session.exec(
        select(Contact.id, Contact.suppressed_reason).where(
            col(Contact.id).in_(contact_ids), Contact.status == ContactStatus.SUPPRESSED
        )
    ).all()
    return {cid: f"contact suppressed ({why or 'no reason given'})" for cid, why in rows if cid is not None}


def _outcome_upsert(dialect: Any) -> Any:
    """INSERT .. SELECT .. WHERE the broadcast exists, ON CONFLICT update: one statement, built once per dialect."""
    names = ("broadcast_id", "workflow_id", "contact_id", "outcome", "reason", "at")
    given = {name: bindparam(f"b_{name}", type_=BROADCAST_DELIVERY.c[name].type) for name in names}
    known = exists().where(BROADCAST.c.id == given["broadcast_id"])
    rows = sa_select(*(v.label(k) for k, v in given.items())).where(known)
    stmt = dialect.insert(BROADCAST_DELIVERY).from_select(list(given), rows)
    later = {"outcome": stmt.excluded.outcome, "reason": stmt.excluded.reason, "at": stmt.excluded.at}
    upsert = stmt.on_conflict_do_update(index_elements=["broadcast_id", "workflow_id"], set_=later)
    return upsert.returning(BROADCAST_DELIVERY.c.id)  # a row back if written (psycopg's rowcount here is -1)


_RECORD_OUTCOME = {dialect: _outcome_upsert(dialect) for dialect in (postgresql, sqlite)}


def _dialect(conn: Connection) -> Any:
    """The dialect module whose `insert` has ON CONFLICT: PostgreSQL's, else SQLite's."""
    return postgresql if conn.dialect.name == "postgresql" else sqlite


def record_outcome(
    conn: Connection, broadcast_id: str, workflow_id: str, contact_id: int, outcome: str, reason: str, at: datetime
) -> bool:
    """What one journey did with a broadcast: its one `BroadcastDelivery` row, inserted or updated (a repeat, or a
    later outcome for the same broadcast, updates it). False if there is no such broadcast (nothing written).

    Core SQL on the caller's connection, in the caller's transaction: the drop of a broadcast records it in the
    transaction that settles its touch (`activities.drop`), so the two commit together. It runs on every
    broadcast drop, so it is one statement, built once.
    """
    values = {
        "b_broadcast_id": broadcast_id,
        "b_workflow_id": workflow_id,
        "b_contact_id": contact_id,
        "b_outcome": outcome[:20],
        "b_reason": reason[:300],
        "b_at": at,
    }
    return conn.execute(_RECORD_OUTCOME[_dialect(conn)], values).first() is not None


def record_skips(session: Session, broadcast_id: str, skips: list[tuple[str, int, str]], now: datetime) -> None:
    """Skipped deliveries for journeys the broadcast did not signal: (workflow id, contact id, reason).

    A journey that already reported keeps its own outcome: one `INSERT .. ON CONFLICT DO NOTHING` per call (the
    unique (broadcast, workflow) index decides), so a journey reporting at the same moment cannot make it fail.
    """
    if not skips:
        return
    conn = session.connection()
    dialect = _dialect(conn)
    rows = [
        {"broadcast_id": broadcast_id, "workflow_id": w, "contact_id": c, "outcome": "skipped", "reason": why[:300],
         "at": now}
        for w, c, why in skips
    ]  # fmt: skip
    conn.execute(
        dialect.insert(BROADCAST_DELIVERY).on_conflict_do_nothing(index_elements=["broadcast_id", "workflow_id"]), rows
    )
