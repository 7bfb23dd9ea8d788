"""Lifecycle over HTTP (API token): a contact's stage history, and leads in rank order.

`GET /contacts/{id}/stages`: the current stage with time in stage, and every change with who made it and why.
`GET /leads/top?owner=&stage=&limit=`: leads by readiness (grade, score, recent strong signals, value), each with
why, read from the lead row through its index, never from Temporal.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy import select
from sqlalchemy.engine import Connection

from definitions.leads.stages import STAGES
from nurture.api.auth import require_token
from nurture.api.deps import in_transaction
from nurture.api.errors import ApiError
from nurture.clock import utcnow
from nurture.db.tables import CONTACT
from nurture.lifecycle.leads import top_leads
from nurture.lifecycle.stages import stage_history, stage_status

router = APIRouter(tags=["lifecycle"], dependencies=[Depends(require_token)])
MAX_ID = 2**63 - 1


@router.get("/contacts/{contact_id}/stages")
async def contact_stages(request: Request, contact_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> dict[str, Any]:
    now = utcnow()

    def read(conn: Connection) -> dict[str, Any]:
        if conn.execute(select(CONTACT.c.id).where(CONTACT.c.id == contact_id)).first() is None:
            raise ApiError(404, f"no contact {contact_id}")
        status = stage_status(conn, contact_id, now)
        return {
            "contact_id": contact_id,
            "stage": status.stage if status else None,
            "label": status.label if status else None,
            "entered_at": status.entered_at if status else None,
            "seconds_in_stage": int(status.time_in_stage.total_seconds()) if status else None,
            "history": [
                {
                    "from": h.from_stage,
                    "to": h.to_stage,
                    "at": h.at,
                    "why": h.why,
                    "actor": {"kind": h.actor_kind, "id": h.actor_id},
                }
                for h in stage_history(conn, contact_id)
            ],
        }

    return await in_transaction(request, read)


@router.get("/leads/top")
async def leads_top(
    request: Request,
    owner: Annotated[str | None, Query(max_length=64)] = None,
    stage: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> dict[str, Any]:
    if stage is not None and stage not in STAGES.names:
        raise ApiError(422, f"unknown stage {stage!r}; stages are {', '.join(STAGES.names)}")

    def read(conn: Connection) -> dict[str, Any]:
        leads = top_leads(conn, owner=owner, stage=stage, limit=limit)
        return {
            "leads": [
                {
                    "rank": i,
                    "contact_id": v.contact_id,
                    "stage": v.stage,
                    "grade": v.grade,
                    "score": v.score,
                    "signals": list(v.signals),
                    "value": v.value,
                    "readiness": v.readiness,
                    "owner": v.owner,
                    "why": v.why,
                }
                for i, v in enumerate(leads, start=1)
            ]
        }

    return await in_transaction(request, read)
