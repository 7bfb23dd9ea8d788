"""`POST /contacts` (opt-in with consent, optional double opt-in) and `/confirm/{token}` (GET a page, POST confirms).

Knowing an email address gives a stranger nothing: the public answer is the same for a new and a known address
(no id, no token), it comes before any work is done (`nurture.api.signups`: nothing to time), a known contact is
never changed by it (see `nurture.inbound.contacts.upsert_contact`), and a stranger's opt-in is always confirmed
by the address's owner (single opt-in is for the API token: integrations that hold the consent already).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.engine import Connection

from nurture.api.auth import has_api_token
from nurture.api.deps import in_transaction, verified
from nurture.api.errors import ApiError
from nurture.api.pages import page
from nurture.api.signup import Signup
from nurture.clock import utcnow
from nurture.inbound.confirmation import offer_confirmation
from nurture.inbound.contacts import (
    Caller,
    ConfirmRefusedError,
    ContactIn,
    ProofMismatchError,
    confirm,
    upsert_contact,
)
from nurture.inbound.profile import check_company, check_name
from nurture.links import contact_token

router = APIRouter(tags=["contacts"])

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1, max_length=200, description="where the contact opted in, e.g. a form URL")
    wording: str | None = Field(default=None, max_length=500, description="the form id or the words agreed to")
    at: AwareDatetime | None = Field(default=None, description="when; default now (API token only)")
    ip: str | None = Field(default=None, max_length=64, description="default: the caller's address (API token only)")


class ContactCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320)
    consent: ConsentIn
    first_name: str | None = Field(default=None, max_length=120)
    last_name: str | None = Field(default=None, max_length=120)
    company: str | None = Field(default=None, max_length=200)
    persona: str | None = Field(default=None, min_length=1, max_length=60)
    time_zone: str | None = Field(default=None, max_length=60)
    topics: list[str] = Field(default_factory=list, max_length=50)
    double_opt_in: bool = Field(
        default=False, description="ask the address to confirm; always so without the API token (public forms)"
    )
    anonymous_id: str | None = Field(default=None, min_length=1, max_length=128)
    contact_token: str | None = Field(
        default=None, max_length=500, description="from a link the contact received: lets it change its profile"
    )

    @model_validator(mode="after")
    def _all_storable(self) -> ContactCreate:
        _storable(self)
        return self

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not EMAIL.match(value.strip()):
            raise ValueError("not an email address")
        if len(value.strip().lower()) > 320:  # stored lower-cased: some characters grow (İ -> i̇)
            raise ValueError("email address longer than 320 characters")
        return value.strip()

    @field_validator("first_name", "last_name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else check_name(value)

    @field_validator("company")
    @classmethod
    def _company(cls, value: str | None) -> str | None:
        return None if value is None else check_company(value)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as err:
                raise ValueError(f"unknown time zone {value!r}") from err
        return value


def _storable(value: Any) -> None:
    """Refuse what no database column can hold (a NUL, a lone surrogate) before answering: a public opt-in is
    stored after its answer (`nurture.api.signups`), so the database's own refusal would come too late."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("text must not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as err:
            raise ValueError("text must be valid Unicode (no lone surrogates)") from err
    elif isinstance(value, (list, tuple)):
        for item in value:
            _storable(item)
    elif isinstance(value, BaseModel):
        for item in value.__dict__.values():
            _storable(item)


PUBLIC_ANSWER = "Thank you. If this address needs to confirm its subscription, a confirmation email is on its way."


def _caller(request: Request, body: ContactCreate) -> tuple[Caller, int | None]:
    if has_api_token(request):
        return Caller.API_TOKEN, None
    if body.contact_token is not None:
        return Caller.CONTACT_TOKEN, int(verified(request, "contact", body.contact_token)["contact_id"])
    return Caller.PUBLIC, None


@router.post(
    "/contacts",
    status_code=202,
    responses={
        200: {"description": "a known contact, updated by the API token or its own contact token"},
        201: {"description": "a new contact, created with the API token"},
        202: {"description": "the public answer, the same for a new and a known address"},
        403: {"description": "a contact token that is forged, or for another address"},
    },
)
async def create_contact(request: Request, body: ContactCreate, response: Response) -> dict[str, Any]:
    """Opt in. A public caller (a form) gets the same 202 answer whether or not the address is known, before any
    work is done (`nurture.api.signups`: no timing to learn from), never changes a known contact and always has
    to confirm; the API token or the contact's own token may change its profile."""
    now = utcnow()
    settings = request.app.state.ctx.settings
    caller, for_contact = _caller(request, body)
    trusted = caller is Caller.API_TOKEN
    inp = ContactIn(
        email=body.email,
        consent_source=body.consent.source,
        consent_wording=body.consent.wording,
        consent_at=(body.consent.at if trusted else None) or now,
        consent_ip=(body.consent.ip if trusted else None) or (request.client.host if request.client else None),
        user_agent=request.headers.get("user-agent"),
        first_name=body.first_name,
        last_name=body.last_name,
        company=body.company,
        persona=body.persona,
        time_zone=body.time_zone,
        topics=tuple(body.topics),
        double_opt_in=body.double_opt_in,
        anonymous_id=body.anonymous_id,
    )

    if caller is Caller.PUBLIC:  # the same answer, after the same work, for a new and a known address
        if not await request.app.state.signups.accept(Signup(inp, now, request.app.state.time_scale)):
            raise ApiError(503, "too many opt-ins at once: retry in a minute", headers={"Retry-After": "60"})
        return {"accepted": True, "double_opt_in": True, "message": PUBLIC_ANSWER}

    def save(conn: Connection) -> dict[str, Any]:
        outcome = upsert_contact(
            conn,
            inp,
            now,
            time_scale=request.app.state.time_scale,
            caller=caller,
            for_contact=for_contact,
            redactor=settings.url_redactor,
        )
        sent = outcome.needs_confirmation and offer_confirmation(conn, settings, outcome.contact_id, now)
        return {
            "contact_id": outcome.contact_id,
            "status": outcome.status,
            "created": outcome.created,
            "journeys": outcome.journeys,
            "confirmation_sent": sent,
            "events_attributed": len(outcome.stitched.event_ids),
        }

    try:
        result = await in_transaction(request, save)
    except ProofMismatchError as err:
        raise ApiError(403, str(err)) from err
    mailer = request.app.state.mailer
    if result["confirmation_sent"] and mailer is not None:
        mailer.nudge()  # send the confirmation now rather than at the mailer's next idle pass
    response.status_code = 201 if result["created"] else 200
    return {**result, "contact_token": contact_token(settings, result["contact_id"])}


@router.get("/confirm/{token}", response_class=HTMLResponse)
async def confirmation_page(request: Request, token: str) -> HTMLResponse:
    """A page with a button: mail scanners follow links, only a person presses the button (the POST)."""
    verified(request, "confirm", token, expiring=True)
    return page(
        "Confirm your subscription",
        "Press the button to confirm that you want these emails.",
        form_action=str(request.url.path),
        button="Confirm subscription",
    )


@router.post("/confirm/{token}", response_class=HTMLResponse)
async def confirm_subscription(request: Request, token: str) -> HTMLResponse:
    fields = verified(request, "confirm", token, expiring=True)
    now = utcnow()
    issued_at = datetime.fromtimestamp(int(fields.get("iat_ms", "0")) / 1000, UTC)

    contact_id, scale = int(fields["contact_id"]), request.app.state.time_scale

    ip, agent = request.client.host if request.client else None, request.headers.get("user-agent")

    def activate(conn: Connection) -> list[str]:
        return confirm(conn, contact_id, issued_at, now, time_scale=scale, ip=ip, user_agent=agent).journeys

    try:
        await in_transaction(request, activate)
    except ConfirmRefusedError as err:
        return page("Link no longer valid", str(err), status_code=410)
    except LookupError as err:
        raise ApiError(404, "this link is no longer valid") from err
    return page("Subscription confirmed", "Thank you: your subscription is confirmed.")
