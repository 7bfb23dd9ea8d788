"""`POST /webhooks/sendgrid`: SendGrid's signed Event Webhook.

Verify the signature over the raw body, parse it, store its events and queue their signals in one transaction,
and only then answer 2xx. Only a bad or stale signature (403) or a body that is not a JSON array (400) refuses
the batch, with nothing stored; inside a valid signed batch an unusable event is stored as rejected with its
reason and the rest is processed (SendGrid would otherwise retry the good events with the bad for a day). An
unreachable database is a 503 so SendGrid retries.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy.engine import Connection

from nurture.api.deps import ctx_of, in_transaction
from nurture.api.errors import ApiError
from nurture.api.metrics import count_webhook_events
from nurture.clock import utcnow
from nurture.inbound import signature
from nurture.inbound.sendgrid_body import BatchError
from nurture.inbound.sendgrid_events import parse_batch
from nurture.inbound.store import store_sendgrid_batch
from nurture.logging import get_logger

router = APIRouter(tags=["webhooks"])


class WebhookOutcome(BaseModel):
    """What a delivery changed: events received, new ones stored, duplicates skipped, unusable ones rejected."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    signals_queued: int = 0
    contacts_suppressed: int = 0
    rejected: int = 0


log = get_logger(__name__)


@router.post("/webhooks/sendgrid", response_model=WebhookOutcome)
async def sendgrid_events(request: Request) -> dict[str, Any]:
    key = request.app.state.sendgrid_key
    if key is None:
        raise ApiError(403, "signed event webhook not configured: set NURTURE_SENDGRID_WEBHOOK_PUBLIC_KEY")
    settings = request.app.state.ctx.settings
    body = await request.body()
    now = utcnow()
    try:
        signature.verify(
            key,
            signature=request.headers.get(signature.SIGNATURE_HEADER),
            timestamp=request.headers.get(signature.TIMESTAMP_HEADER),
            body=body,
            now=now,
            max_age_seconds=settings.sendgrid_webhook_max_age_seconds,
        )
    except signature.SignatureError as err:
        log.warning("webhook.refused", reason=str(err))
        raise ApiError(403, str(err)) from err
    try:
        batch = parse_batch(body)
    except BatchError as err:
        raise ApiError(400, f"invalid event batch, nothing stored: {err}") from err
    if batch.rejected:
        log.warning("webhook.events_rejected", count=len(batch.rejected), first=batch.rejected[0].reason)
    if not batch.events and not batch.rejected:
        return WebhookOutcome().model_dump()

    def store(conn: Connection) -> dict[str, Any]:
        return store_sendgrid_batch(conn, batch, now, redactor=ctx_of(request).settings.url_redactor).as_dict()

    outcome = await in_transaction(request, store)
    count_webhook_events(request, (e.kind for e in batch.events))
    log.info("webhook.stored", **outcome)
    return outcome
