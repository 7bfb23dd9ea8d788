"""The one writer of `call_task` rows: open (idempotent per journey and attempt), take an outcome, time out.

One conditional write decides between a rep's outcome and the journey's timeout, on SQLite and PostgreSQL alike:
the first to reach an open task wins; an outcome is never changed (the same one again is a no-op). The doors
(`nurture.inbound.call_tasks`) add the outbox row that tells the journey.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from nurture.db.tables import CALL_TASK
from workflows.dsl.calls import RECORDABLE, CallOutcome

OPEN, DONE, TIMED_OUT = "open", "done", "timed_out"


class UnknownCallTaskError(LookupError):
    """No such call task."""


class OutcomeRefusedError(ValueError):
    """The task has another outcome already, or its journey stopped waiting."""


@dataclass(frozen=True)
class TakenOutcome:
    task_id: int
    contact_id: int
    journey: str
    outcome: CallOutcome
    new: bool  # False: the same outcome was recorded before


def open_task(conn: Connection, key: str, fields: dict[str, Any], now: datetime) -> tuple[int, bool]:
    """The task for `key` (created now, or the one an earlier attempt created) and whether it is new."""
    c = CALL_TASK.c
    found = conn.execute(select(c.id).where(c.idempotency_key == key)).scalar()
    if found is not None:
        return int(found), False
    row = {"idempotency_key": key[:300], "status": OPEN, "created_at": now, **fields}
    return int(conn.execute(insert(CALL_TASK).values(**row).returning(c.id)).scalar_one()), True


def parse_outcome(word: str) -> CallOutcome:
    """A recordable outcome, or ValueError naming the ones a person may record."""
    for outcome in RECORDABLE:
        if outcome.value == word:
            return outcome
    raise ValueError(f"unknown call outcome {word!r}; use {', '.join(o.value for o in RECORDABLE)}")


def take_outcome(conn: Connection, task_id: int, outcome: CallOutcome, note: str, now: datetime) -> TakenOutcome:
    c = CALL_TASK.c
    won = conn.execute(
        update(CALL_TASK)
        .where(c.id == task_id, c.status == OPEN)
        .values(status=DONE, outcome=outcome.value, note=note[:500], answered_at=now)
        .returning(c.contact_id, c.journey)
    ).first()
    if won is not None:
        return TakenOutcome(task_id, int(won.contact_id), won.journey, outcome, new=True)
    row = conn.execute(select(c.contact_id, c.journey, c.status, c.outcome).where(c.id == task_id)).first()
    if row is None:
        raise UnknownCallTaskError(f"no call task {task_id}")
    if row.status == DONE and row.outcome == outcome.value:
        return TakenOutcome(task_id, int(row.contact_id), row.journey, outcome, new=False)
    if row.status == TIMED_OUT:
        raise OutcomeRefusedError(f"call task {task_id} timed out: its journey stopped waiting")
    raise OutcomeRefusedError(f"call task {task_id} already has outcome {row.outcome}")


def close_timed_out(conn: Connection, task_id: int, now: datetime) -> CallOutcome:
    """The journey stopped waiting: timed_out, unless an outcome reached the row first (then that outcome)."""
    c = CALL_TASK.c
    closed = conn.execute(
        update(CALL_TASK).where(c.id == task_id, c.status == OPEN).values(status=TIMED_OUT, answered_at=now)
    )
    if closed.rowcount:
        return CallOutcome.TIMED_OUT
    stored = conn.execute(select(c.outcome).where(c.id == task_id)).scalar()
    return CallOutcome(stored) if stored else CallOutcome.TIMED_OUT


def record_crm_response(conn: Connection, task_id: int, response: str) -> None:
    conn.execute(update(CALL_TASK).where(CALL_TASK.c.id == task_id).values(crm_response=response[:500]))
