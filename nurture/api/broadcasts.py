"""Broadcast endpoints: the HTTP door to `nurture.broadcasts.service` (the CLI is the other door).

Every endpoint needs the configured bearer token (`nurture.api.auth`). Bad input is a 422 with a message,
an unknown broadcast a 404, a request the broadcast's state does not allow a 409, Temporal unreachable a 503.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, status
from pydantic import BaseModel, Field
from temporalio.service import RPCError

from nurture.api.auth import require_token
from nurture.broadcasts.audience import Audience
from nurture.broadcasts.models import (
    AudiencePreview,
    BroadcastConflictError,
    BroadcastCreate,
    BroadcastError,
    BroadcastNotFoundError,
    BroadcastPublic,
    BroadcastStatus,
)
from nurture.broadcasts.service import BroadcastService
from nurture.context import AppContext

router = APIRouter(prefix="/broadcasts", tags=["broadcasts"], dependencies=[Depends(require_token)])


class StartRequest(BaseModel):
    concurrency: int | None = Field(default=None, ge=1, le=1000, description="signals in flight at once")


async def service(request: Request) -> AsyncIterator[BroadcastService]:
    """The service for this request; its refusals become HTTP errors with the service's message."""
    ctx: AppContext = request.app.state.ctx
    try:
        yield BroadcastService(ctx.settings, ctx.engine, ctx.client)
    except BroadcastNotFoundError as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from err
    except BroadcastConflictError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err
    except BroadcastError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(err)) from err
    except RPCError as err:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"Temporal unavailable: {err.message}") from err


def actor(caller: str = Depends(require_token), on_behalf_of: str | None = Header(default=None)) -> str:
    """Who to record: the token's caller, and the person it acts for if the client says so."""
    return f"{caller} ({on_behalf_of[:80]})" if on_behalf_of else caller


@router.get("")
async def list_broadcasts(
    svc: BroadcastService = Depends(service), limit: int = Query(50, ge=1, le=500)
) -> list[BroadcastPublic]:
    return await svc.list(limit)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_broadcast(
    body: BroadcastCreate, svc: BroadcastService = Depends(service), who: str = Depends(actor)
) -> BroadcastPublic:
    """Store a draft broadcast after checking its content item and audience. Nothing is sent yet."""
    return await svc.create(body, who)


@router.post("/preview")
async def preview_audience(
    audience: Audience, svc: BroadcastService = Depends(service), sample: int = Query(10, ge=0, le=100)
) -> AudiencePreview:
    """How many running journeys an audience selects, with a sample of contacts."""
    return await svc.preview(audience, sample)


@router.get("/{broadcast_id}")
async def broadcast_status(broadcast_id: str, svc: BroadcastService = Depends(service)) -> BroadcastStatus:
    return await svc.status(broadcast_id)


@router.get("/{broadcast_id}/preview")
async def preview_broadcast(
    broadcast_id: str, svc: BroadcastService = Depends(service), sample: int = Query(10, ge=0, le=100)
) -> AudiencePreview:
    return await svc.preview_broadcast(broadcast_id, sample)


@router.post("/{broadcast_id}/start", status_code=status.HTTP_202_ACCEPTED)
async def start_broadcast(
    broadcast_id: str,
    body: StartRequest | None = None,
    svc: BroadcastService = Depends(service),
    who: str = Depends(actor),
) -> BroadcastStatus:
    """Start delivery (idempotent while it runs); follow it with GET /broadcasts/{id}."""
    return await svc.start(broadcast_id, who, body.concurrency if body else None)


@router.post("/{broadcast_id}/{action}")
async def control_broadcast(
    broadcast_id: str, action: str, svc: BroadcastService = Depends(service), who: str = Depends(actor)
) -> BroadcastStatus:
    """pause | resume | cancel: takes effect within seconds; the answer shows the confirmed state."""
    if action not in ("pause", "resume", "cancel"):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no action {action!r}: use pause, resume or cancel")
    return await svc.control(broadcast_id, action, who)
