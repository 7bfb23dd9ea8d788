"""SendGrid Event Webhook payloads: validation, normalisation and the dedupe key.

A body that is not a JSON array is refused whole (`BatchError`, from `nurture.inbound.sendgrid_body`). Inside
an array each event is judged alone: an unusable one (unknown kind, wrong types, a timestamp out of range, a NUL
byte, invalid unicode, a number JSON cannot store) becomes a `RejectedIn` with the reason, and the rest are used.
The pydantic model states the rules and words the refusals; a well-typed event skips it
(`nurture.inbound.sendgrid_typed`).

SendGrid delivers at least once, sometimes re-sending an event with a new `sg_event_id`, and its own sample
batches reuse one `sg_event_id` across different events. So the dedupe key is a content key: the message, the
event kind, the recipient, its time (seconds) and what distinguishes two events of that kind (the URL of a
click, the attempt of a deferral, the group of a group unsubscribe, the type of a bounce).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import sha256
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from nurture import sendgrid_args
from nurture.db.types import ROW_ID_MAX
from nurture.inbound.sendgrid_body import BatchError, ascii_json, load_body, unstorable
from nurture.inbound.sendgrid_typed import MAX_TIMESTAMP, Fields, typed_fields

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
_KEPT = frozenset(KEPT_FIELDS)


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


class ParsedEvent(NamedTuple):
    """A validated SendGrid event, normalised for storage and routing (a named tuple: a batch makes a thousand)."""

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
    raw, clean = load_body(body)
    if not isinstance(raw, list):
        raise BatchError(f"body must be a JSON array of events, got {type(raw).__name__}")
    batch = Batch([], [])
    used = batch.events.append
    addresses: Addresses = {}  # one normalisation and hash per recipient and batch, not one per event
    for position, item in enumerate(raw):
        if clean and type(item) is dict:
            fields = typed_fields(item, KINDS)  # the common case: nothing to coerce, no refusal to word
            if fields is not None:
                used(_normalise(fields, item, addresses))
                continue
        problem = unstorable(item) if not clean or not isinstance(item, dict) else None
        if problem is None:
            try:
                model = _EVENT.validate_python(item)
                used(_normalise(_fields_of(model), item, addresses))
                continue
            except ValidationError as err:
                problem = describe(err)
        batch.rejected.append(RejectedIn(position, problem[:500], ascii_json(item)))
    return batch


def describe(err: ValidationError, limit: int = 5) -> str:
    """`timestamp: Input should be a valid integer; ...` (the first few problems of one event)."""
    parts = []
    for problem in err.errors()[:limit]:
        field = ".".join(str(p) for p in problem["loc"])
        msg = str(problem["msg"]).removeprefix("Value error, ")
        parts.append(f"{field + ': ' if field else ''}{msg}")
    more = err.error_count() - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _fields_of(ev: SendGridEvent) -> Fields:
    return Fields(
        ev.event, ev.timestamp, ev.email, ev.sg_message_id, ev.smtp_id, ev.url, ev.type, ev.sg_machine_open,
        ev.asm_group_id, ev.attempt, ev.contact_id, ev.journey, ev.item_id,
    )  # fmt: skip


Addresses = dict[str, tuple[str, str]]  # address as posted -> (normalised, its hash), per batch


def _address(email: str, addresses: Addresses | None) -> tuple[str, str]:
    """The recipient as stored (trimmed, lower case) and its hash in the dedupe key."""
    known = addresses.get(email) if addresses is not None else None
    if known is None:
        normal = email.strip().lower()
        known = (normal, _hash(normal))
        if addresses is not None:
            addresses[email] = known
    return known


def _normalise(ev: Fields, raw: dict[str, Any], addresses: Addresses) -> ParsedEvent:
    event, kind = ev.event, KINDS[ev.event]
    email, address = _address(ev.email, addresses) if ev.email else (None, "")
    return ParsedEvent(
        kind,
        event,
        datetime.fromtimestamp(ev.timestamp, UTC),
        _key(ev, address),
        email,
        ev.contact_id,
        ev.journey,
        ev.item_id,
        ev.url[:2000] if ev.url else None,
        kind == "opened" and ev.sg_machine_open,
        ev.type,
        {name: value for name, value in raw.items() if name in _KEPT},
    )


def dedupe_key(ev: Fields | SendGridEvent, addresses: Addresses | None = None) -> str:
    """Same event, same key, whatever `sg_event_id` it was re-sent with.

    `addresses` memoises the recipient's normalisation and hash within a batch. The key keeps its two-level
    form (the address hashed inside the content hash) on purpose: keys already stored must match SendGrid's
    re-deliveries (tests/api/test_dedupe_keys_stay_stable.py pins it)."""
    return _key(ev, _address(ev.email, addresses)[1] if ev.email else "")


def _key(ev: Fields | SendGridEvent, address: str) -> str:
    # the message is the X-Message-Id prefix: the suffix after the first dot names SendGrid's filter node
    message = ev.sg_message_id.split(".", 1)[0] if ev.sg_message_id else (ev.smtp_id or "")
    distinguishing = _DISTINGUISHING.get(ev.event)
    part = "" if distinguishing is None else distinguishing(ev)
    content = f"{ev.event}\x1f{message}\x1f{ev.contact_id or ''}|{address}\x1f{ev.timestamp}\x1f{part}"
    return f"sg:{KINDS[ev.event]}:{_hash(content)}"


_DISTINGUISHING: dict[str, Callable[[Fields | SendGridEvent], str]] = {
    "click": lambda ev: ev.url or "",
    "deferred": lambda ev: str(ev.attempt or ""),
    "bounce": lambda ev: ev.type or "",
    "group_unsubscribe": lambda ev: str(ev.asm_group_id or ""),
    "group_resubscribe": lambda ev: str(ev.asm_group_id or ""),
    "account_status_change": lambda ev: ev.type or "",
}


def _hash(text: str) -> str:
    return sha256(text.encode()).hexdigest()[:40]
