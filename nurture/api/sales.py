"""`POST /handoffs/{handoff_id}/feedback`: the CRM tells nurture what sales made of a lead it was handed.

The handoff nurture posted to the CRM carries `handoff_id`; the CRM (or a person in it, through an automation)
answers here with the bearer token. The verdict is written to the transactional outbox in one transaction with
the handoff row, so it reaches the journey even if Temporal is briefly down, and it names the handoff, so a late
answer to an earlier handoff never counts for a newer one. Answering twice with the same verdict is harmless;
changing a verdict already recorded is refused (409).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
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


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accepted: bool = Field(description="true: sales takes the lead; false: back to nurture after a cool-down")
    reason: str = Field(default="", max_length=500, description="kept on the handoff and shown in the journey")


@router.post("/handoffs/{handoff_id}/feedback", status_code=202)
async def sales_feedback(request: Request, handoff_id: int, body: FeedbackIn) -> dict[str, Any]:
    now = utcnow()
    verdict = HandoffStatus.ACCEPTED if body.accepted else HandoffStatus.REJECTED

    def record(conn: Connection) -> dict[str, Any]:
        h = HANDOFF.c
        row = conn.execute(
            select(h.contact_id, h.journey, h.status, h.feedback_at).where(h.id == handoff_id).with_for_update()
        ).first()
        if row is None:
            raise ApiError(404, f"no handoff {handoff_id}")
        contact_id, journey, status, answered_at = row
        if status in (HandoffStatus.ACCEPTED, HandoffStatus.REJECTED):
            if status != verdict:
                raise ApiError(409, f"handoff {handoff_id} was already {status}: a verdict is not changed here")
            return {"handoff_id": handoff_id, "status": status, "queued": False}
        if answered_at is not None:  # the journey stopped waiting (no feedback in time) and went back to nurture
            raise ApiError(409, f"handoff {handoff_id} timed out without feedback; the contact is back in nurture")
        # The journey records the feedback itself (its record_sales_feedback activity); here only the verdict
        # is marked so a second, different one is refused, and the signal is queued with it.
        conn.execute(update(HANDOFF).where(h.id == handoff_id).values(status=verdict.value, feedback_at=now))
        payload = {"accepted": body.accepted, "reason": body.reason, "handoff_id": handoff_id}
        outbox.write(conn, [OutboxSignal(contact_id, None, journey, keys.SIGNAL_SALES_FEEDBACK, payload)], now)
        return {"handoff_id": handoff_id, "status": verdict.value, "queued": True}

    return await in_transaction(request, record)
