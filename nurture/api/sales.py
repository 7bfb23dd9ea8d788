"""`POST /handoffs/{handoff_id}/feedback`: the CRM tells nurture what sales made of a lead it was handed.

The handoff nurture posted to the CRM carries `handoff_id`; the CRM (or a person in it, through an automation)
answers here with the bearer token. The verdict is written to the transactional outbox in one transaction with
the handoff row, so it reaches the journey even if Temporal is briefly down, and it names the handoff, so a late
answer to an earlier handoff never counts for a newer one. Answering twice with the same verdict is harmless;
changing a verdict already recorded is refused (409).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from nurture import keys
from nurture.api.auth import require_token
from nurture.api.deps import in_transaction
from nurture.api.errors import ApiError
from nurture.clock import utcnow
from nurture.db import Handoff, HandoffStatus
from nurture.ingest import outbox
from nurture.ingest.routing import OutboxSignal

router = APIRouter(tags=["sales"], dependencies=[Depends(require_token)])
HANDOFF = outbox.table(Handoff)
VERDICTS = (HandoffStatus.ACCEPTED.value, HandoffStatus.REJECTED.value)
MAX_ID = 2**63 - 1


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accepted: bool = Field(description="true: sales takes the lead; false: back to nurture after a cool-down")
    reason: str = Field(default="", max_length=500, description="kept on the handoff and shown in the journey")


@router.post("/handoffs/{handoff_id}/feedback", status_code=202)
async def sales_feedback(
    request: Request, body: FeedbackIn, handoff_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> dict[str, Any]:
    now = utcnow()
    verdict = HandoffStatus.ACCEPTED if body.accepted else HandoffStatus.REJECTED

    def record(conn: Connection) -> dict[str, Any]:
        h = HANDOFF.c
        # One conditional write decides, on SQLite and PostgreSQL alike: the first verdict for a handoff that is
        # still waiting wins; the journey's own "no feedback in time" write uses the same condition.
        taken = conn.execute(
            update(HANDOFF)
            .where(h.id == handoff_id, h.feedback_at.is_(None), h.status.not_in(VERDICTS))
            .values(status=verdict.value, feedback_at=now, feedback_reason=body.reason)
        )
        row = conn.execute(select(h.contact_id, h.journey, h.status).where(h.id == handoff_id)).first()
        if row is None:
            raise ApiError(404, f"no handoff {handoff_id}")
        contact_id, journey, status = row
        if taken.rowcount != 1:
            if status == verdict.value:
                return {"handoff_id": handoff_id, "status": status, "queued": False}
            if status in VERDICTS:
                raise ApiError(409, f"handoff {handoff_id} was already {status}: a verdict is not changed here")
            raise ApiError(409, f"handoff {handoff_id} timed out without feedback; the contact is back in nurture")
        payload = {"accepted": body.accepted, "reason": body.reason, "handoff_id": handoff_id}
        outbox.write(conn, [OutboxSignal(contact_id, None, journey, keys.SIGNAL_SALES_FEEDBACK, payload)], now)
        return {"handoff_id": handoff_id, "status": verdict.value, "queued": True}

    return await in_transaction(request, record)
