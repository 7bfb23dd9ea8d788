"""SendGrid Event Webhook payloads: validation, normalisation and the dedupe key.

SendGrid delivers at least once, sometimes re-sending an event with a new `sg_event_id`, and its own sample
batches reuse one `sg_event_id` across different events. So the dedupe key is a content key: the message, the
event kind, the recipient, its time (seconds) and what distinguishes two events of that kind (the URL of a
click, the attempt of a deferral, the group of a group unsubscribe, the type of a bounce).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from nurture import keys

# SendGrid kind -> the kind we store. Opens and clicks use the journey vocabulary (`opened`, `clicked`).
KINDS: dict[str, str] = {
    "processed": "processed",
    "delivered": "delivered",
    "deferred": "deferred",
    "bounce": "bounce",
    "blocked": "blocked",
    "dropped": "dropped",
    "open": "opened",
    "click": "clicked",
    "spamreport": "spamreport",
    "unsubscribe": "unsubscribe",
    "group_unsubscribe": "group_unsubscribe",
    "group_resubscribe": "group_resubscribe",
    "account_status_change": "account_status_change",
}
# Fields worth keeping on the stored event (the email address is not: the contact id links it).
KEPT_FIELDS = (
    "sg_event_id", "sg_message_id", "smtp-id", "category", "reason", "status", "response", "attempt", "type",
    "bounce_classification", "asm_group_id", "useragent", "sg_machine_open", "marketing_campaign_id", "tls",
    keys.CUSTOM_ARG_TOUCH, keys.CUSTOM_ARG_BROADCAST,
)  # fmt: skip


class BatchError(ValueError):
    """The batch is not a valid SendGrid event array; `str()` says which event and why."""


class SendGridEvent(BaseModel):
    """One event as SendGrid posts it. Unknown extra fields (custom args, new attributes) are allowed."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    event: str
    timestamp: int = Field(ge=0)
    email: str | None = None
    sg_event_id: str | None = None
    sg_message_id: str | None = None
    smtp_id: str | None = Field(default=None, alias="smtp-id")
    url: str | None = None
    type: str | None = None
    sg_machine_open: bool = False
    asm_group_id: int | None = None
    attempt: str | int | None = None
    contact_id: int | None = Field(default=None, alias=keys.CUSTOM_ARG_CONTACT)
    journey: str | None = Field(default=None, alias=keys.CUSTOM_ARG_JOURNEY, max_length=64)
    item_id: str | None = Field(default=None, alias=keys.CUSTOM_ARG_ITEM, max_length=64)

    @field_validator("event")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in KINDS:
            raise ValueError(f"unknown event kind {value!r}; known: {', '.join(KINDS)}")
        return value

    @field_validator("contact_id", mode="before")
    @classmethod
    def _contact_id(cls, value: Any) -> Any:
        # custom_args are strings on the wire
        if isinstance(value, str):
            if not value.isdigit():
                raise ValueError(f"{keys.CUSTOM_ARG_CONTACT} must be a contact id, got {value!r}")
            return int(value)
        return value


_BATCH = TypeAdapter(list[SendGridEvent])


@dataclass(frozen=True)
class ParsedEvent:
    """A validated SendGrid event, normalised for storage and routing."""

    kind: str  # our vocabulary (see KINDS)
    sendgrid_kind: str
    occurred_at: datetime
    dedupe_key: str
    email: str | None
    contact_id: int | None
    journey: str | None
    item_id: str | None
    url: str | None
    machine: bool
    bounce_type: str | None
    data: dict[str, Any]


def parse_batch(body: bytes) -> list[ParsedEvent]:
    """Validate a raw webhook body; BatchError names the first bad event. All or nothing."""
    try:
        raw = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BatchError(f"body is not valid JSON: {err}") from err
    if not isinstance(raw, list):
        raise BatchError(f"body must be a JSON array of events, got {type(raw).__name__}")
    try:
        events = _BATCH.validate_python(raw)
    except ValidationError as err:
        raise BatchError(describe(err)) from err
    return [_normalise(ev, item) for ev, item in zip(events, raw, strict=True)]


def describe(err: ValidationError, limit: int = 5) -> str:
    """`event 3: timestamp: Input should be a valid integer; ...` (first few problems)."""
    parts = []
    for problem in err.errors()[:limit]:
        loc = list(problem["loc"])
        where = f"event {loc.pop(0)}" if loc and isinstance(loc[0], int) else "body"
        field = ".".join(str(p) for p in loc)
        msg = str(problem["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {field + ': ' if field else ''}{msg}")
    more = err.error_count() - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _normalise(ev: SendGridEvent, raw: dict[str, Any]) -> ParsedEvent:
    kind = KINDS[ev.event]
    data = {name: raw[name] for name in KEPT_FIELDS if name in raw}
    return ParsedEvent(
        kind=kind,
        sendgrid_kind=ev.event,
        occurred_at=datetime.fromtimestamp(ev.timestamp, UTC),
        dedupe_key=dedupe_key(ev),
        email=ev.email.strip().lower() if ev.email else None,
        contact_id=ev.contact_id,
        journey=ev.journey,
        item_id=ev.item_id,
        url=ev.url[:2000] if ev.url else None,
        machine=kind == "opened" and ev.sg_machine_open,
        bounce_type=ev.type,
        data=data,
    )


def dedupe_key(ev: SendGridEvent) -> str:
    """Same event, same key, whatever `sg_event_id` it was re-sent with."""
    # the message is the X-Message-Id prefix: the suffix after the first dot names SendGrid's filter node
    message = ev.sg_message_id.split(".", 1)[0] if ev.sg_message_id else (ev.smtp_id or "")
    who = f"{ev.contact_id or ''}|{_hash(ev.email.strip().lower()) if ev.email else ''}"
    distinguishing = {
        "click": ev.url or "",
        "deferred": str(ev.attempt or ""),
        "bounce": ev.type or "",
        "group_unsubscribe": str(ev.asm_group_id or ""),
        "group_resubscribe": str(ev.asm_group_id or ""),
    }.get(ev.event, "")
    if ev.event == "account_status_change":
        distinguishing = ev.type or ""
    content = "\x1f".join((ev.event, message, who, str(ev.timestamp), distinguishing))
    return f"sg:{KINDS[ev.event]}:{_hash(content)}"


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:40]
