"""`POST /tasks/{task_id}/outcome`: the CRM (or a rep through it) says how a call task went.

The call task nurture posted to the CRM carries `task_id` and `outcome_url`. The outcome goes to the transactional
outbox in one transaction with the task row, naming the task, so it reaches the waiting journey even if Temporal
is briefly down. The same outcome twice is harmless; another outcome, or one after the journey stopped waiting,
is refused (409); an unknown task is 404.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Connection

from nurture.api.answers import answer_router, record_answer
from nurture.api.params import PathId
from nurture.clock import utcnow
from nurture.inbound.call_tasks import record_outcome
from nurture.lifecycle.call_tasks import OutcomeRefusedError, UnknownCallTaskError

router = answer_router()


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["reached_interested", "reached_not_now", "no_answer"] = Field(description="how the call went")
    note: str = Field(default="", max_length=500, description="what the rep wants marketing to know")


@router.post("/tasks/{task_id}/outcome", status_code=202)
async def call_outcome(request: Request, body: OutcomeIn, task_id: PathId) -> dict[str, Any]:
    now = utcnow()

    def record(conn: Connection) -> dict[str, Any]:
        taken = record_outcome(conn, task_id, body.outcome, body.note, now)
        return {"task_id": taken.task_id, "outcome": taken.outcome.value, "queued": taken.new}

    return await record_answer(request, record, unknown=UnknownCallTaskError, refused=OutcomeRefusedError)
