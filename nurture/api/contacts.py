"""`POST /contacts` (opt-in with consent, optional double opt-in) and `GET /confirm/{token}`."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.engine import Connection

from nurture.api.deps import in_transaction, verified
from nurture.api.errors import ApiError
from nurture.api.pages import page
from nurture.clock import utcnow
from nurture.inbound.confirmation import send_confirmation
from nurture.inbound.contacts import ConfirmRefusedError, ContactIn, confirm, upsert_contact
from nurture.links import contact_token

router = APIRouter(tags=["contacts"])

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1, max_length=200, description="where the contact opted in, e.g. a form URL")
    at: AwareDatetime | None = Field(default=None, description="when; default now")
    ip: str | None = Field(default=None, max_length=64, description="default: the caller's address")


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
    double_opt_in: bool = False
    anonymous_id: str | None = Field(default=None, min_length=1, max_length=128)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not EMAIL.match(value.strip()):
            raise ValueError("not an email address")
        return value.strip()

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as err:
                raise ValueError(f"unknown time zone {value!r}") from err
        return value


@router.post("/contacts")
async def create_contact(request: Request, body: ContactCreate, response: Response) -> dict[str, Any]:
    now = utcnow()
    settings = request.app.state.ctx.settings
    inp = ContactIn(
        email=body.email,
        consent_source=body.consent.source,
        consent_at=body.consent.at or now,
        consent_ip=body.consent.ip or (request.client.host if request.client else None),
        first_name=body.first_name,
        last_name=body.last_name,
        company=body.company,
        persona=body.persona,
        time_zone=body.time_zone,
        topics=tuple(body.topics),
        double_opt_in=body.double_opt_in,
        anonymous_id=body.anonymous_id,
    )

    def save(conn: Connection) -> dict[str, Any]:
        outcome = upsert_contact(conn, inp, now, time_scale=request.app.state.time_scale)
        if outcome.needs_confirmation:
            send_confirmation(conn, settings, outcome.contact_id, now)
        return {
            "contact_id": outcome.contact_id,
            "status": outcome.status,
            "created": outcome.created,
            "journeys": outcome.journeys,
            "confirmation_sent": outcome.needs_confirmation,
            "events_attributed": len(outcome.stitched.event_ids),
            "contact_token": contact_token(settings, outcome.contact_id),
        }

    result = await in_transaction(request, save)
    mailer = request.app.state.mailer
    if result["confirmation_sent"] and mailer is not None:
        mailer.nudge()  # send the confirmation now rather than at the mailer's next idle pass
    response.status_code = 201 if result["created"] else 200
    return result


@router.get("/confirm/{token}", response_class=HTMLResponse)
async def confirm_subscription(request: Request, token: str) -> HTMLResponse:
    fields = verified(request, "confirm", token, expiring=True)
    now = utcnow()
    issued_at = datetime.fromtimestamp(int(fields.get("iat_ms", "0")) / 1000, UTC)

    contact_id, scale = int(fields["contact_id"]), request.app.state.time_scale

    def activate(conn: Connection) -> list[str]:
        return confirm(conn, contact_id, issued_at, now, time_scale=scale).journeys

    try:
        await in_transaction(request, activate)
    except ConfirmRefusedError as err:
        return page("Link no longer valid", str(err), status_code=410)
    except LookupError as err:
        raise ApiError(404, "this link is no longer valid") from err
    return page("Subscription confirmed", "Thank you: your subscription is confirmed.")
