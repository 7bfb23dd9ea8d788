"""The cheap typed path for SendGrid events: plain checks of the fields a well-formed event carries.

`typed_fields` accepts an event only when every field the model reads already has its exact type and is in
range (no coercion needed), and then returns the same values `SendGridEvent` would hold. Anything else (a
missing or unknown kind, a string timestamp, a field given by its Python name, an id out of range, ...) returns
None and the caller validates with the pydantic model, which decides and words the refusal. So the rules and
the reasons stay in one place (the model); this path only skips its cost for events it would accept unchanged.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from nurture import sendgrid_args
from nurture.db.types import ROW_ID_MAX

MAX_TIMESTAMP = 253_402_300_799  # 9999-12-31T23:59:59Z, the last second a datetime holds
TEXT_MAX = 64  # journey and item ids (the model's max_length)

# names the model also accepts for aliased fields (populate_by_name): an event using one goes to the model
_FIELD_NAMES = frozenset(("smtp_id", "contact_id", "journey", "item_id"))
_OPTIONAL_TEXT = ("email", "sg_event_id", "sg_message_id", "smtp-id", "url", "type")


class Fields(NamedTuple):
    """What the model would hold for an event (the subset normalisation and the dedupe key read)."""

    event: str
    timestamp: int
    email: str | None
    sg_message_id: str | None
    smtp_id: str | None
    url: str | None
    type: str | None
    sg_machine_open: bool
    asm_group_id: int | None
    attempt: str | int | None
    contact_id: int | None
    journey: str | None
    item_id: str | None


def typed_fields(raw: dict[str, Any], kinds: dict[str, str]) -> Fields | None:
    """The event's fields when they need no coercion and pass every rule of the model, else None."""
    get = raw.get
    event = get("event")
    timestamp = get("timestamp")
    if type(event) is not str or event not in kinds:
        return None
    if type(timestamp) is not int or not 0 <= timestamp <= MAX_TIMESTAMP:
        return None
    if not _FIELD_NAMES.isdisjoint(raw):
        return None
    for name in _OPTIONAL_TEXT:
        value = get(name)
        if value is not None and type(value) is not str:
            return None
    machine = get("sg_machine_open", False)
    group = get("asm_group_id")
    attempt = get("attempt")
    if type(machine) is not bool:
        return None
    if group is not None and type(group) is not int:
        return None
    if attempt is not None and type(attempt) is not str and type(attempt) is not int:
        return None
    contact = get(sendgrid_args.CUSTOM_ARG_CONTACT)
    if contact is not None:
        if type(contact) is str and contact.isascii() and contact.isdigit():
            contact = int(contact)
        if type(contact) is not int or not 1 <= contact <= ROW_ID_MAX:
            return None
    journey = get(sendgrid_args.CUSTOM_ARG_JOURNEY)
    item = get(sendgrid_args.CUSTOM_ARG_ITEM)
    for text in (journey, item):
        if text is not None and (type(text) is not str or len(text) > TEXT_MAX):
            return None
    return Fields(
        event, timestamp, get("email"), get("sg_message_id"), get("smtp-id"), get("url"), get("type"),
        machine, group, attempt, contact, journey, item,
    )  # fmt: skip
