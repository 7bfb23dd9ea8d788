"""`POST /handoffs/{handoff_id}/feedback`: the CRM tells nurture what sales made of a lead it was handed.

The handoff nurture posted to the CRM carries `handoff_id`; the CRM (or a person in it, through an automation)
answers here with the bearer token. The verdict is written to the transactional outbox in one transaction with
the handoff row, so it reaches the journey even if Temporal is briefly down, and it names the handoff, so a late
answer to an earlier handoff never counts for a newer one. Answering twice with the same verdict is harmless;
changing a verdict already recorded is refused (409).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Connection

from nurture.api.answers import answer_router, record_answer
from nurture.api.params import PathId
from nurture.clock import utcnow
from nurture.inbound.sales import UnknownHandoffError, VerdictRefusedError, record_verdict

router = answer_router()


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accepted: bool = Field(description="true: sales takes the lead; false: back to nurture after a cool-down")
    reason: str = Field(default="", max_length=500, description="kept on the handoff and shown in the journey")


@router.post("/handoffs/{handoff_id}/feedback", status_code=202)
async def sales_feedback(request: Request, body: FeedbackIn, handoff_id: PathId) -> dict[str, Any]:
    now = utcnow()

    def record(conn: Connection) -> dict[str, Any]:
        verdict = record_verdict(conn, handoff_id, body.accepted, body.reason, now)
        return {"handoff_id": verdict.handoff_id, "status": verdict.status, "queued": verdict.queued}

    return await record_answer(request, record, unknown=UnknownHandoffError, refused=VerdictRefusedError)
