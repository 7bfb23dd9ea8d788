"""Web tracking: `POST /track` page views, and the open pixel and click redirect of links nurture renders."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.engine import Connection

from nurture.api.deps import acting_contact, ctx_of, in_transaction, verified
from nurture.api.errors import ApiError
from nurture.api.params import BodyId
from nurture.clock import utcnow
from nurture.inbound.web import PageViewIn, UnknownContactError, WebClient, store_page_view, store_web_engagement

router = APIRouter(tags=["tracking"])

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = {"Cache-Control": "no-store, max-age=0"}
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)


class TrackIn(BaseModel):
    """A page view. `anonymous_id` for a visitor; a contact needs `contact_token` (or `contact_id` + API token)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000)
    anonymous_id: str | None = Field(default=None, min_length=1, max_length=128)
    contact_id: BodyId | None = None
    contact_token: str | None = Field(default=None, max_length=500)
    title: str | None = Field(default=None, max_length=500)
    referrer: str | None = Field(default=None, max_length=2000)
    topic: str | None = Field(default=None, max_length=100)
    occurred_at: AwareDatetime | None = None
    event_id: str | None = Field(default=None, min_length=1, max_length=100, description="idempotency key")

    @field_validator("url", "anonymous_id", "contact_token", "title", "referrer", "topic", "event_id")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        if value is not None and "\x00" in value:
            raise ValueError("must not contain a NUL character")  # PostgreSQL cannot store one: same answer on both
        return value

    @field_validator("occurred_at")
    @classmethod
    def _representable(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        try:
            utc = value.astimezone(UTC)  # 0001-01-01T00:00:00+14:00 is before the first representable instant
        except OverflowError as err:
            raise ValueError("occurred_at is out of range") from err
        if utc < EARLIEST:
            raise ValueError(f"occurred_at must be after {EARLIEST.isoformat()}")
        return utc


def _when(value: datetime | None, now: datetime) -> datetime:
    return now if value is None or value > now else value  # a clock ahead of ours does not predate history


@router.post("/track")
async def track(request: Request, body: TrackIn) -> dict[str, Any]:
    try:
        scheme = urlsplit(body.url).scheme
    except ValueError as err:  # a bracketed host that is no IPv6 address, ...
        raise ApiError(422, f"url is not a URL: {err}") from err
    if scheme not in ("http", "https"):
        raise ApiError(422, "url must be an http(s) URL")
    contact_id = acting_contact(request, body.contact_id, body.contact_token)
    if contact_id is None and body.anonymous_id is None:
        raise ApiError(422, "a page view needs an anonymous_id or a contact")
    now = utcnow()
    redactor = ctx_of(request).settings.url_redactor
    view = PageViewIn(
        url=body.url,
        occurred_at=_when(body.occurred_at, now),
        anonymous_id=body.anonymous_id,
        contact_id=contact_id,
        title=body.title,
        referrer=body.referrer,
        topic=body.topic,
        client_event_id=body.event_id,
    )

    def store(conn: Connection) -> dict[str, Any]:
        return store_page_view(conn, view, now, redactor=redactor).as_dict()

    try:
        return await in_transaction(request, store)
    except UnknownContactError as err:
        raise ApiError(404, str(err)) from err


@router.get("/t/o/{token}", response_class=Response, responses={200: {"content": {"image/gif": {}}}})
@router.head("/t/o/{token}", include_in_schema=False)  # one operation id per method: HEAD stays out of the schema
async def open_pixel(request: Request, token: str) -> Response:
    token = token.removesuffix(".gif")
    fields = verified(request, "open", token)
    await _engage(request, "opened", token, fields, None)
    return Response(PIXEL, media_type="image/gif", headers=NO_STORE)


@router.get("/t/c/{token}", response_class=RedirectResponse, status_code=302)
@router.head("/t/c/{token}", include_in_schema=False)  # scanners check links with HEAD
async def click(request: Request, token: str) -> RedirectResponse:
    fields = verified(request, "click", token)
    url = fields.get("url", "")
    if urlsplit(url).scheme not in ("http", "https"):
        raise ApiError(403, "this link has no valid destination")
    await _engage(request, "clicked", token, fields, url)
    return RedirectResponse(url, status_code=302, headers=NO_STORE)


async def _engage(request: Request, kind: str, token: str, fields: dict[str, str], url: str | None) -> None:
    now = utcnow()

    def store(conn: Connection) -> None:
        store_web_engagement(
            conn,
            contact_id=int(fields["contact_id"]),
            kind=kind,
            token=token,
            touch_id=int(fields["touch_id"]) if fields.get("touch_id", "").isdigit() else None,
            item_id=fields.get("item_id"),
            url=url,
            now=now,
            redactor=ctx_of(request).settings.url_redactor,
            client=WebClient(request.method, request.headers.get("user-agent")),
        )

    try:
        await in_transaction(request, store)
    except UnknownContactError:  # erased: nothing is stored, and the link still works (old mail, forwarded mail)
        return
