"""`POST /identify`: link an anonymous visitor to a contact (a form fill); its earlier views become the contact's."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.engine import Connection

from nurture.api.deps import acting_contact, in_transaction
from nurture.api.errors import ApiError
from nurture.api.params import BodyId
from nurture.clock import utcnow
from nurture.inbound.store import CONTACT
from nurture.inbound.web import UnknownContactError, identify

router = APIRouter(tags=["identity"])


class IdentifyIn(BaseModel):
    """Who the visitor is: the `email` they typed into a form, a `contact_token`, or `contact_id` + API token."""

    model_config = ConfigDict(extra="forbid")

    anonymous_id: str = Field(min_length=1, max_length=128)
    email: str | None = Field(default=None, min_length=3, max_length=320)
    contact_id: BodyId | None = None
    contact_token: str | None = Field(default=None, max_length=500)


@router.post("/identify")
async def identify_visitor(request: Request, body: IdentifyIn) -> dict[str, Any]:
    contact_id = acting_contact(request, body.contact_id, body.contact_token)
    if contact_id is None and body.email is None:
        raise ApiError(422, "identify needs an email, a contact_token, or a contact_id with the API token")
    now = utcnow()

    def link(conn: Connection) -> dict[str, Any]:
        cid = contact_id
        if cid is None:
            assert body.email is not None
            email = body.email.strip().lower()
            cid = conn.execute(select(CONTACT.c.id).where(CONTACT.c.email == email)).scalar()
            if cid is None:
                raise UnknownContactError("no contact with that email: create it with POST /contacts")
        stitched = identify(conn, body.anonymous_id, cid, now)
        return {"contact_id": cid, "events_attributed": len(stitched.event_ids), "signals_queued": stitched.signals}

    try:
        return await in_transaction(request, link)
    except UnknownContactError as err:
        raise ApiError(404, str(err)) from err
