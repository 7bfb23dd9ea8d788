"""`POST /identify`: link an anonymous visitor to a contact, with proof; its earlier views become the contact's."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Connection

from nurture.api.deps import acting_contact, ctx_of, in_transaction
from nurture.api.errors import ApiError
from nurture.api.params import BodyId
from nurture.clock import utcnow
from nurture.inbound.web import UnknownContactError, identify

router = APIRouter(tags=["identity"])


class IdentifyIn(BaseModel):
    """Who the visitor is: a signed `contact_token` (from a nurture link, or signed by the site's server with the
    API token), or a `contact_id` with the API token. An email address is no proof: anyone can type one."""

    model_config = ConfigDict(extra="forbid")

    anonymous_id: str = Field(min_length=1, max_length=128)
    contact_id: BodyId | None = None
    contact_token: str | None = Field(default=None, max_length=500)


@router.post("/identify")
async def identify_visitor(request: Request, body: IdentifyIn) -> dict[str, Any]:
    contact_id = acting_contact(request, body.contact_id, body.contact_token)
    if contact_id is None:
        raise ApiError(422, "identify needs a contact_token, or a contact_id with the API token")
    now, redactor = utcnow(), ctx_of(request).settings.url_redactor  # the configured patterns, as /track

    def link(conn: Connection) -> dict[str, Any]:
        stitched = identify(conn, body.anonymous_id, contact_id, now, redactor=redactor)
        return {
            "contact_id": contact_id,
            "events_attributed": len(stitched.event_ids),
            "signals_queued": stitched.signals,
        }

    try:
        return await in_transaction(request, link)
    except UnknownContactError as err:  # a token for an erased contact, or an API caller's typo
        raise ApiError(404, "this contact is no longer known") from err
