"""Bulk pause, resume and end of journeys: an audience from the database, a preview, and an operation that
is processed in batches, idempotently, with its cursor in the database (resumable after a crash).

The audience is the running enrollments of one journey, optionally narrowed to a stage or a minimum lead score
(the latest score the journey recorded) or to listed contacts. Creating an operation snapshots its items, each
with the operator's reason; processing queues one outbox signal per item (pause, resume, or an exit for end)
and marks the item done in the same transaction, so a crash between batches neither loses nor repeats one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.engine import Connection

from nurture import temporal_names
from nurture.db import BulkAction, BulkState
from nurture.db.tables import BULK_OPERATION, BULK_OPERATION_ITEM, ENROLLMENT, SCORE
from nurture.inbound import outbox
from nurture.inbound.routing import OutboxSignal

SIGNALS = {
    BulkAction.PAUSE: temporal_names.SIGNAL_PAUSE_JOURNEY,
    BulkAction.RESUME: temporal_names.SIGNAL_RESUME_JOURNEY,
    BulkAction.END: temporal_names.SIGNAL_EXIT,
}


@dataclass(frozen=True)
class BulkAudience:
    journey: str
    stage: str | None = None
    min_score: float | None = None
    contact_ids: tuple[int, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "journey": self.journey,
            "stage": self.stage,
            "min_score": self.min_score,
            "contact_ids": list(self.contact_ids),
        }


@dataclass(frozen=True)
class Preview:
    count: int
    sample: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Progress:
    operation_id: int
    action: str
    state: str
    total: int
    done: int

    @property
    def finished(self) -> bool:
        return self.state == BulkState.DONE


def _members(audience: BulkAudience) -> Any:
    """A select of (contact_id) for the running enrollments the audience names, ordered by contact."""
    e = ENROLLMENT.c
    q = select(e.contact_id).where(e.journey == audience.journey, e.ended_at.is_(None))
    if audience.contact_ids:
        q = q.where(e.contact_id.in_(audience.contact_ids))
    if audience.stage is not None or audience.min_score is not None:
        s = SCORE.c
        latest = (
            select(s.contact_id, func.max(s.id).label("last_id"))
            .where(s.journey == audience.journey)
            .group_by(s.contact_id)
            .subquery()
        )
        q = q.join(latest, latest.c.contact_id == e.contact_id).join(SCORE, SCORE.c.id == latest.c.last_id)
        if audience.stage is not None:
            q = q.where(SCORE.c.stage == audience.stage)
        if audience.min_score is not None:
            q = q.where(SCORE.c.score >= audience.min_score)
    return q.distinct().order_by(e.contact_id)


def preview(conn: Connection, audience: BulkAudience, sample: int = 10) -> Preview:
    members = _members(audience).subquery()
    total = int(conn.execute(select(func.count()).select_from(members)).scalar_one())
    ids = list(conn.execute(select(members.c.contact_id).order_by(members.c.contact_id).limit(sample)).scalars())
    return Preview(total, ids)


def create(
    conn: Connection, action: BulkAction, audience: BulkAudience, reason: str, requested_by: str, now: datetime
) -> int:
    """Snapshot the audience as an operation's items; nothing is signalled yet."""
    op_id = conn.execute(
        insert(BULK_OPERATION)
        .values(
            action=action.value,
            audience=audience.as_dict(),
            reason=reason[:500],
            requested_by=requested_by[:120],
            state=BulkState.RUNNING.value,
            total=0,
            cursor=0,
            created_at=now,
        )
        .returning(BULK_OPERATION.c.id)
    ).scalar_one()
    ids = list(conn.execute(_members(audience)).scalars())
    if ids:
        rows = [
            {"operation_id": op_id, "contact_id": c, "journey": audience.journey, "reason": reason[:500]} for c in ids
        ]
        conn.execute(insert(BULK_OPERATION_ITEM), rows)
    conn.execute(update(BULK_OPERATION).where(BULK_OPERATION.c.id == op_id).values(total=len(ids)))
    return int(op_id)


def process_batch(conn: Connection, operation_id: int, now: datetime, batch: int = 200) -> Progress:
    """Signal the next `batch` items after the cursor (idempotent: done items are never signalled again)."""
    op = (
        conn.execute(select(BULK_OPERATION).where(BULK_OPERATION.c.id == operation_id).with_for_update())
        .mappings()
        .one_or_none()
    )
    if op is None:
        raise LookupError(f"no bulk operation {operation_id}")
    if op["state"] == BulkState.RUNNING:
        i = BULK_OPERATION_ITEM.c
        todo = conn.execute(
            select(i.id, i.contact_id, i.journey)
            .where(i.operation_id == operation_id, i.id > op["cursor"], i.done_at.is_(None))
            .order_by(i.id)
            .limit(batch)
        ).all()
        action = BulkAction(op["action"])
        payload = {"reason": "manual", "event_id": None, "operation_id": operation_id}
        if action is not BulkAction.END:
            payload = {"operation_id": operation_id}
        outbox.write(conn, [OutboxSignal(r.contact_id, None, r.journey, SIGNALS[action], payload) for r in todo], now)
        if todo:
            conn.execute(
                update(BULK_OPERATION_ITEM)
                .where(and_(i.operation_id == operation_id, i.id.in_([r.id for r in todo])))
                .values(done_at=now)
            )
            conn.execute(update(BULK_OPERATION).where(BULK_OPERATION.c.id == operation_id).values(cursor=todo[-1].id))
        if len(todo) < batch:
            conn.execute(
                update(BULK_OPERATION)
                .where(BULK_OPERATION.c.id == operation_id)
                .values(state=BulkState.DONE.value, finished_at=now)
            )
    return progress(conn, operation_id)


def progress(conn: Connection, operation_id: int) -> Progress:
    op = conn.execute(select(BULK_OPERATION).where(BULK_OPERATION.c.id == operation_id)).mappings().one_or_none()
    if op is None:
        raise LookupError(f"no bulk operation {operation_id}")
    i = BULK_OPERATION_ITEM.c
    done = conn.execute(select(func.count()).where(i.operation_id == operation_id, i.done_at.is_not(None))).scalar_one()
    return Progress(operation_id, op["action"], op["state"], op["total"], int(done))
