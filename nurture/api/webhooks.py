"""`POST /webhooks/sendgrid`: SendGrid's signed Event Webhook.

Verify the signature over the raw body, validate the whole batch, store it and queue its signals in one
transaction, and only then answer 2xx. A bad signature is a 403 with nothing stored; a bad batch a 400 with
nothing stored; an unreachable database a 503 so SendGrid retries.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.engine import Connection

from nurture.api.deps import in_transaction
from nurture.api.errors import ApiError
from nurture.api.metrics import count_webhook_events
from nurture.clock import utcnow
from nurture.inbound import signature
from nurture.inbound.sendgrid_events import BatchError, ParsedEvent, parse_batch
from nurture.inbound.store import store_sendgrid_batch
from nurture.logging import get_logger

router = APIRouter(tags=["webhooks"])
log = get_logger(__name__)


@router.post("/webhooks/sendgrid")
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
    events: list[ParsedEvent] = []

    def store(conn: Connection) -> dict[str, Any]:
        return store_sendgrid_batch(conn, events, now).as_dict()

    try:
        events = parse_batch(body)
    except BatchError as err:
        raise ApiError(400, f"invalid event batch, nothing stored: {err}") from err
    if not events:
        return {"received": 0, "stored": 0, "duplicates": 0, "signals_queued": 0, "contacts_suppressed": 0}
    outcome = await in_transaction(request, store)
    count_webhook_events(request, (e.kind for e in events))
    log.info("webhook.stored", **outcome)
    return outcome
