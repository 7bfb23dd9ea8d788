"""Bulk control for operators (API token): `POST /journeys/bulk` previews or runs a pause, resume or end.

`preview: true` answers the count and a sample of contact ids and changes nothing. Otherwise the operation is
created (items snapshotted with the reason) and processed in batches; `GET /journeys/bulk/{id}` reports its
progress, and `POST /journeys/bulk/{id}/continue` finishes one a crash interrupted (idempotent).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request
from pydantic import BaseModel, Field
from sqlalchemy.engine import Connection

from nurture.api.auth import require_token
from nurture.api.deps import in_transaction
from nurture.api.errors import ApiError
from nurture.clock import utcnow
from nurture.db import BulkAction
from nurture.inbound import bulk

router = APIRouter(prefix="/journeys/bulk", tags=["bulk"], dependencies=[Depends(require_token)])
OperationId = Annotated[int, Path(ge=1, le=2**63 - 1)]
RequestedBy = Annotated[str, Header(alias="X-Requested-By", max_length=120)]


class BulkRequest(BaseModel):
    action: BulkAction
    journey: str = Field(min_length=1, max_length=64)
    stage: str | None = Field(default=None, max_length=30)
    min_score: float | None = Field(default=None, ge=0, le=1e6)
    contact_ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(default_factory=list, max_length=10_000)
    reason: str = Field(min_length=1, max_length=500)
    preview: bool = False


def _progress(p: bulk.Progress) -> dict[str, Any]:
    return {"operation_id": p.operation_id, "action": p.action, "state": p.state, "total": p.total, "done": p.done}


async def _run(request: Request, operation_id: int) -> bulk.Progress:
    def step(conn: Connection) -> bulk.Progress:
        return bulk.process_batch(conn, operation_id, utcnow())

    while True:
        done = await in_transaction(request, step)
        if done.finished:
            return done


@router.post("")
async def start(
    request: Request,
    body: BulkRequest,
    requested_by: Annotated[str, Header(alias="X-Requested-By", max_length=120)] = "api",
) -> dict[str, Any]:
    audience = bulk.BulkAudience(body.journey, body.stage, body.min_score, tuple(body.contact_ids))
    if body.preview:

        def look(conn: Connection) -> bulk.Preview:
            return bulk.preview(conn, audience)

        seen = await in_transaction(request, look)
        return {"preview": True, "count": seen.count, "sample": seen.sample}
    now = utcnow()

    def create(conn: Connection) -> int:
        return bulk.create(conn, body.action, audience, body.reason, requested_by, now)

    operation_id = await in_transaction(request, create)
    return _progress(await _run(request, operation_id))


@router.get("/{operation_id}")
async def status(request: Request, operation_id: OperationId) -> dict[str, Any]:
    def read(conn: Connection) -> bulk.Progress:
        return bulk.progress(conn, operation_id)

    try:
        return _progress(await in_transaction(request, read))
    except LookupError as err:
        raise ApiError(404, f"no bulk operation {operation_id}") from err


@router.post("/{operation_id}/continue")
async def resume_operation(request: Request, operation_id: OperationId) -> dict[str, Any]:
    try:
        return _progress(await _run(request, operation_id))
    except LookupError as err:
        raise ApiError(404, f"no bulk operation {operation_id}") from err
