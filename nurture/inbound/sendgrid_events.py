"""SendGrid Event Webhook payloads: validation, normalisation and the dedupe key.

A body that is not a JSON array is refused whole (`BatchError`). Inside an array each event is judged alone:
an unusable one (unknown kind, wrong types, a timestamp out of range, a NUL byte, invalid unicode, a number
JSON cannot store) becomes a `RejectedIn` with the reason, and the rest are used.

SendGrid delivers at least once, sometimes re-sending an event with a new `sg_event_id`, and its own sample
batches reuse one `sg_event_id` across different events. So the dedupe key is a content key: the message, the
event kind, the recipient, its time (seconds) and what distinguishes two events of that kind (the URL of a
click, the attempt of a deferral, the group of a group unsubscribe, the type of a bounce).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from nurture import sendgrid_args
from nurture.db.types import ROW_ID_MAX

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
    sendgrid_args.CUSTOM_ARG_TOUCH, sendgrid_args.CUSTOM_ARG_BROADCAST,
)  # fmt: skip


MAX_TIMESTAMP = 253_402_300_799  # 9999-12-31T23:59:59Z, the last second a datetime holds


class BatchError(ValueError):
    """The batch is not a valid SendGrid event array; `str()` says which event and why."""


class SendGridEvent(BaseModel):
    """One event as SendGrid posts it. Unknown extra fields (custom args, new attributes) are allowed."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    event: str
    timestamp: int = Field(ge=0, le=MAX_TIMESTAMP)
    email: str | None = None
    sg_event_id: str | None = None
    sg_message_id: str | None = None
    smtp_id: str | None = Field(default=None, alias="smtp-id")
    url: str | None = None
    type: str | None = None
    sg_machine_open: bool = False
    asm_group_id: int | None = None
    attempt: str | int | None = None
    contact_id: int | None = Field(default=None, alias=sendgrid_args.CUSTOM_ARG_CONTACT, ge=1, le=ROW_ID_MAX)
    journey: str | None = Field(default=None, alias=sendgrid_args.CUSTOM_ARG_JOURNEY, max_length=64)
    item_id: str | None = Field(default=None, alias=sendgrid_args.CUSTOM_ARG_ITEM, max_length=64)

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
                raise ValueError(f"{sendgrid_args.CUSTOM_ARG_CONTACT} must be a contact id, got {value!r}")
            return int(value)
        return value


_EVENT = TypeAdapter(SendGridEvent)


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


@dataclass(frozen=True)
class RejectedIn:
    """An event of a valid batch that cannot be used: its position, why, and its JSON text (ASCII only)."""

    position: int
    reason: str
    raw: str


@dataclass(frozen=True)
class Batch:
    """A parsed body: the usable events and the rejected ones, in body order."""

    events: list[ParsedEvent]
    rejected: list[RejectedIn]


def parse_batch(body: bytes) -> Batch:
    """Parse a raw webhook body; BatchError when it is not a JSON array, else each event is used or rejected."""
    # invalid UTF-8 becomes lone surrogates, so the event carrying it is rejected alone
    text = body.decode("utf-8", errors="surrogateescape")
    scan = _NumberScan()
    try:
        raw = json.loads(text, parse_float=scan.number, parse_constant=scan.constant)
    except json.JSONDecodeError as err:
        raise BatchError(f"body is not valid JSON: {err}") from err
    except RecursionError as err:
        raise BatchError("body is not valid JSON: nested too deeply") from err
    if not isinstance(raw, list):
        raise BatchError(f"body must be a JSON array of events, got {type(raw).__name__}")
    batch = Batch([], [])
    clean = scan.finite and _clean_text(text)  # then no event needs the walk for NULs, surrogates, NaN
    for position, item in enumerate(raw):
        problem = unstorable(item) if not clean or not isinstance(item, dict) else None
        if problem is None:
            try:
                batch.events.append(_normalise(_EVENT.validate_python(item), item))
                continue
            except ValidationError as err:
                problem = describe(err)
        batch.rejected.append(RejectedIn(position, problem[:500], _ascii_json(item)))
    return batch


def unstorable(item: Any) -> str | None:
    """Why a decoded JSON value cannot be stored as an event (walked without recursion), or None."""
    if not isinstance(item, dict):
        return f"an event must be a JSON object, got {type(item).__name__}"
    stack: list[Any] = [item]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            if "\x00" in value:
                return "a string contains a NUL character"
            if not _encodable(value):
                return "a string is not valid unicode (lone surrogate or invalid UTF-8)"
        elif isinstance(value, float) and not math.isfinite(value):
            return "a number is not finite (NaN or Infinity)"
    return None


class _NumberScan:
    """json.loads hooks that notice a number JSON cannot store (NaN, Infinity, or a float overflowing to inf)."""

    def __init__(self) -> None:
        self.finite = True

    def number(self, text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            self.finite = False
        return value

    def constant(self, text: str) -> float:
        self.finite = False
        return float(text)


# a JSON escape that decodes to NUL or to a UTF-16 surrogate (paired ones too: then the walk decides)
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def _clean_text(text: str) -> bool:
    """True when no string in the decoded body can hold a NUL or a lone surrogate (the per-event walk is moot)."""
    return _encodable(text) and not _SUSPECT_ESCAPE.search(text)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _ascii_json(item: Any) -> str:
    """The event as JSON text a database always stores: every non-ASCII character (and NUL) escaped."""
    try:
        text = json.dumps(item, ensure_ascii=True, allow_nan=True)
    except (ValueError, RecursionError):
        text = json.dumps(repr(item)[:20_000])
    return text[:20_000]


def describe(err: ValidationError, limit: int = 5) -> str:
    """`timestamp: Input should be a valid integer; ...` (the first few problems of one event)."""
    parts = []
    for problem in err.errors()[:limit]:
        field = ".".join(str(p) for p in problem["loc"])
        msg = str(problem["msg"]).removeprefix("Value error, ")
        parts.append(f"{field + ': ' if field else ''}{msg}")
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
