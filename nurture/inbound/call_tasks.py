"""Recording a call's outcome, for every door (`POST /tasks/{id}/outcome`, `nurture tasks outcome`).

The outcome is written by `nurture.lifecycle.call_tasks` (first one wins); a new one is queued to the outbox in the
same transaction, naming the task, so it reaches the waiting journey even while Temporal is down.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from nurture import temporal_names
from nurture.inbound import outbox
from nurture.inbound.routing import OutboxSignal
from nurture.lifecycle.call_tasks import TakenOutcome, parse_outcome, take_outcome


def record_outcome(conn: Connection, task_id: int, word: str, note: str, now: datetime) -> TakenOutcome:
    """Raises ValueError (unknown outcome), `UnknownCallTaskError`, `OutcomeRefusedError`."""
    taken = take_outcome(conn, task_id, parse_outcome(word), note, now)
    if taken.new:
        payload = {"task_id": task_id, "outcome": taken.outcome.value, "note": note[:500]}
        signal = OutboxSignal(taken.contact_id, None, taken.journey, temporal_names.SIGNAL_CALL_OUTCOME, payload)
        outbox.write(conn, [signal], now)
    return taken
