"""SendGrid-shaped events and contacts for the API tests."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine

from nurture import sendgrid_args, workflow_ids
from nurture.clock import utcnow
from nurture.db import Contact, Enrollment
from nurture.db.engine import session_scope

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def event(
    kind: str,
    contact_id: int | None,
    *,
    message: str = "14c5d75ce93.dfd.64b469",
    at: datetime | None = None,
    journey: str | None = "b2b_drip",
    email: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One event as SendGrid posts it, with the custom_args every drop carries."""
    ev: dict[str, Any] = {
        "email": email or f"contact{contact_id}@example.com",
        "timestamp": int((at or utcnow() - timedelta(minutes=5)).timestamp()),
        "smtp-id": f"<{message}@ismtpd-555>",
        "event": kind,
        "category": ["nurture"],
        "sg_event_id": base64.b64encode(secrets.token_bytes(16)).decode(),
        "sg_message_id": f"{message}.filter0001.16648.{secrets.token_hex(4).upper()}.0",
    }
    if contact_id is not None:
        ev[sendgrid_args.CUSTOM_ARG_CONTACT] = str(contact_id)
        ev[sendgrid_args.CUSTOM_ARG_ITEM] = "ll-aware-1"
        ev[sendgrid_args.CUSTOM_ARG_TOUCH] = "1"
    if journey is not None:
        ev[sendgrid_args.CUSTOM_ARG_JOURNEY] = journey
    defaults: dict[str, dict[str, Any]] = {
        "delivered": {"response": "250 OK", "ip": "168.1.1.1", "tls": 1},
        "deferred": {"response": "400 try again later", "attempt": "5"},
        "bounce": {"reason": "500 unknown recipient", "status": "5.0.0", "type": "bounce"},
        "dropped": {"reason": "Bounced Address", "status": "5.0.0"},
        "open": {"useragent": "Mozilla/5.0", "ip": "255.255.255.255", "sg_machine_open": False},
        "click": {"useragent": "Mozilla/5.0", "ip": "255.255.255.255", "url": "https://ledgerline.example/guide"},
        "spamreport": {},
        "unsubscribe": {},
        "group_unsubscribe": {"asm_group_id": 10, "useragent": "Mozilla/5.0", "ip": "255.255.255.255"},
        "group_resubscribe": {"asm_group_id": 10, "useragent": "Mozilla/5.0", "ip": "255.255.255.255"},
    }
    ev.update(defaults.get(kind, {}))
    ev.update(extra)
    return ev


def add_contact(engine: Engine, email: str, *, persona: str = "finance-lead", journeys: tuple[str, ...] = ()) -> int:
    """A contact enrolled (in the database only) in `journeys`."""
    now = utcnow()
    with session_scope(engine) as s:
        contact = Contact(email=email, persona=persona, created_at=now, updated_at=now, consent_source="test")
        s.add(contact)
        s.flush()
        assert contact.id is not None
        for journey in journeys:
            workflow_id = workflow_ids.journey_workflow_id(journey, contact.id)
            s.add(Enrollment(contact_id=contact.id, journey=journey, workflow_id=workflow_id, enrolled_at=now))
        return contact.id


def contact(engine: Engine, contact_id: int) -> Contact:
    with session_scope(engine) as s:
        found = s.get(Contact, contact_id)
        assert found is not None
        return found


def link_path(url: str) -> str:
    """The path of a signed link nurture rendered (its token is in the path), to request from the served API."""
    return urlsplit(url).path
