"""Workflow ids and the keys they are built from.

Temporal carries ids only. Every id built here is made of contact ids, journey keys and broadcast ids: never an
email address or a name.
"""

from __future__ import annotations

import re

_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def check_key(key: str, what: str = "key") -> str:
    """A journey or broadcast key: lowercase letters, digits and dashes (it ends up in workflow ids)."""
    if not _KEY.match(key):
        raise ValueError(f"invalid {what} {key!r}: use lowercase letters, digits, dashes and underscores")
    return key


def journey_workflow_id(journey: str, contact_id: int) -> str:
    """Exactly one running journey per (journey, contact): the id is the uniqueness guard."""
    return f"journey/{check_key(journey, 'journey')}/contact-{int(contact_id)}"


def parse_journey_workflow_id(workflow_id: str) -> tuple[str, int]:
    """Inverse of `journey_workflow_id`."""
    try:
        prefix, journey, contact = workflow_id.split("/")
        if prefix != "journey" or not contact.startswith("contact-"):
            raise ValueError
        return journey, int(contact.removeprefix("contact-"))
    except ValueError as exc:
        raise ValueError(f"not a journey workflow id: {workflow_id!r}") from exc


def broadcast_workflow_id(broadcast_id: str) -> str:
    return f"broadcast/{check_key(broadcast_id, 'broadcast id')}"
