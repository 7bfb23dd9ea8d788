"""Rows and activity instances the activity tests share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from activities.email import EmailSender, OutboxSender, build_sender
from activities.journey import JourneyActivities
from nurture import workflow_ids
from nurture.config import Settings
from nurture.db import Contact, Enrollment, Event
from nurture.db.engine import session_scope
from workflows.payloads import SendDropInput

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # a Monday afternoon
DAY = timedelta(days=1)
GAP = 3 * 86400.0
TRACKING_SECRET = "test-tracking-secret"


def outbox_settings(**overrides: Any) -> Settings:
    """Settings with no SendGrid key (the dev outbox sender) and no .env file."""
    base: dict[str, Any] = {
        "public_base_url": "https://go.nurture.test",
        "tracking_secret": SecretStr(TRACKING_SECRET),
    }
    return Settings(_env_file=None, **{**base, **overrides})  # type: ignore[call-arg]


@contextmanager
def journey_activities(
    settings: Settings, engine: Engine, sender: EmailSender | None = None
) -> Iterator[JourneyActivities]:
    """The real activity class with real clients (closed afterwards)."""
    with httpx.Client(timeout=settings.crm_timeout_seconds) as crm_http:
        yield JourneyActivities(settings, engine, sender or build_sender(settings, engine), crm_http)


def outbox_activities(
    engine: Engine, sender: EmailSender | None = None, **overrides: Any
) -> AbstractContextManager[JourneyActivities]:
    """Activities with the dev outbox sender (or `sender`)."""
    return journey_activities(outbox_settings(**overrides), engine, sender or OutboxSender(engine))


def add_contact(engine: Engine, email: str = "ada@example.com", **fields: Any) -> int:
    with session_scope(engine) as s:
        contact = Contact(
            email=email,
            first_name=fields.pop("first_name", "Ada"),
            company=fields.pop("company", "Acme Ltd"),
            persona=fields.pop("persona", "finance-lead"),
            created_at=T0 - 30 * DAY,
            updated_at=T0 - 30 * DAY,
            **fields,
        )
        s.add(contact)
        s.flush()
        assert contact.id is not None
        return contact.id


def enroll(engine: Engine, contact_id: int, journey: str = "b2b_drip") -> str:
    workflow_id = workflow_ids.journey_workflow_id(journey, contact_id)
    with session_scope(engine) as s:
        s.add(Enrollment(contact_id=contact_id, journey=journey, workflow_id=workflow_id, enrolled_at=T0 - DAY))
    return workflow_id


def add_event(engine: Engine, contact_id: int | None, kind: str, at: datetime, **fields: Any) -> None:
    with session_scope(engine) as s:
        s.add(
            Event(
                dedupe_key=fields.pop("dedupe_key", f"{kind}:{contact_id}:{at.isoformat()}:{fields.get('url')}"),
                contact_id=contact_id,
                kind=kind,
                source=fields.pop("source", "test"),
                occurred_at=at,
                received_at=at,
                **fields,
            )
        )


def drop(
    contact_id: int, item_id: str = "b2b-approval-costs", *, journey: str = "b2b_drip", **kw: Any
) -> SendDropInput:
    fields: dict[str, Any] = {
        "contact_id": contact_id,
        "journey": journey,
        "workflow_id": workflow_ids.journey_workflow_id(journey, contact_id),
        "item_id": item_id,
        "step": "drop 1",
        "reason": "scheduled drop (awareness)",
        "now": T0,
        "min_gap_seconds": GAP,
    }
    fields.update(kw)
    return SendDropInput(**fields)
