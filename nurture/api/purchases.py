"""`POST /contacts/{contact_id}/purchases` (API token): the CRM reports an order for a contact.

Applied exactly as an orders import line (`nurture.lifecycle.imports.apply.apply_purchase`): the contact becomes a
customer, every journey whose goal a purchase meets ends through the outbox, and the customer journey is enrolled.
Idempotent by (source, order id): the same order again changes nothing (`created: 0`). Unknown contact: 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.engine import Connection

from nurture.api.auth import require_token
from nurture.api.deps import in_transaction
from nurture.api.errors import ApiError
from nurture.api.params import PathId
from nurture.clock import utcnow
from nurture.db.tables import CONTACT
from nurture.lifecycle.imports.apply import apply_purchase
from nurture.lifecycle.imports.parse import Key, OrderLine

router = APIRouter(tags=["imports"], dependencies=[Depends(require_token)])


class PurchaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_id: str = Field(min_length=1, max_length=100)
    amount: float = Field(default=0.0, ge=0)
    currency: str = Field(default="", max_length=3)
    product: str = Field(default="", max_length=200)
    ordered_at: datetime | None = Field(default=None, description="when it was ordered (timezone-aware); now if absent")


@router.post("/contacts/{contact_id}/purchases", status_code=200)
async def purchase(request: Request, body: PurchaseIn, contact_id: PathId) -> dict[str, Any]:
    now = utcnow()
    if body.ordered_at is not None and body.ordered_at.tzinfo is None:
        raise ApiError(422, "ordered_at needs a time zone")
    when = body.ordered_at or now

    def record(conn: Connection) -> dict[str, Any]:
        if conn.execute(select(CONTACT.c.id).where(CONTACT.c.id == contact_id)).first() is None:
            raise ApiError(404, f"no contact {contact_id}")
        order = OrderLine(1, Key(None, None), "crm", body.order_id, body.amount, body.currency, body.product, when)
        return apply_purchase(conn, contact_id, order, "crm purchase door", now).as_dict()

    return await in_transaction(request, record)
