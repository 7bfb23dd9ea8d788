"""What an event does to a contact's journeys. Pure rules; `store` applies them in one transaction.

- opens and clicks: engagement, signalled to the journeys that wait for them (machine opens never are);
- bounces, drops, spam reports and unsubscribes: suppression of the contact and immediate exit of its journeys;
- everything else (processed, delivered, deferred, blocked, resubscribes, account events): stored only.

Everything is stored and counts toward the score, whatever it does here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from nurture import temporal_names
from nurture.inbound.interest import wants
from nurture.inbound.sendgrid_events import ParsedEvent
from nurture.redaction import Redactor


class Action(StrEnum):
    ENGAGE = "engage"
    EXIT = "exit"
    STORE = "store"


# stored kind -> ExitRequest.reason (workflows.payloads.ExitRequest)
EXIT_REASONS = {
    "bounce": "bounce",
    "dropped": "dropped",
    "spamreport": "complaint",
    "unsubscribe": "unsubscribe",
    "group_unsubscribe": "unsubscribe",
}


def action_for(event: ParsedEvent) -> Action:
    """The action for a SendGrid event."""
    if event.kind == "bounce" and (event.bounce_type or "").lower() == "blocked":
        return Action.STORE  # a block is the receiving server refusing for now, not a bad address
    return action_for_kind(event.kind, machine=event.machine)


def exit_reason(kind: str) -> str:
    return EXIT_REASONS.get(kind, "manual")


def action_for_kind(kind: str, *, machine: bool = False) -> Action:
    """The action for a stored kind from any source (web page views and clicks engage too)."""
    if kind in ("opened", "clicked", "page_view"):
        return Action.STORE if machine else Action.ENGAGE
    return Action.EXIT if kind in EXIT_REASONS else Action.STORE


@dataclass(frozen=True)
class Routable:
    """A newly stored event (a re-delivered duplicate never gets here), as routing sees it."""

    event_id: int
    contact_id: int
    kind: str
    action: Action
    occurred_at: datetime
    journey: str | None = None  # the journey whose drop caused it (custom_args), if any
    item_id: str | None = None
    url: str | None = None
    topic: str | None = None


@dataclass(frozen=True)
class OutboxSignal:
    """One signal owed to one journey (a SignalOutbox row)."""

    contact_id: int
    event_id: int | None
    journey: str
    signal: str
    payload: dict[str, Any]


def temporal_url(url: str | None, redactor: Redactor) -> str | None:
    """The URL as a journey may see it: scheme, host and path, with email addresses (and the configured
    patterns) redacted (`nurture.redaction`). The full URL stays in the database."""
    return redactor.url(url)


def signals_for(event: Routable, journeys: Sequence[str], redactor: Redactor) -> list[OutboxSignal]:
    """The signals `event` owes to the contact's running `journeys` (only those whose decisions depend on it)."""
    if event.action is Action.STORE:
        return []
    if event.action is Action.EXIT:
        payload: dict[str, Any] = {"reason": exit_reason(event.kind), "event_id": str(event.event_id)}
        return [
            OutboxSignal(event.contact_id, event.event_id, j, temporal_names.SIGNAL_EXIT, payload) for j in journeys
        ]
    if event.kind != "page_view" and event.journey is not None:
        journeys = [j for j in journeys if j == event.journey]  # the journey that sent the drop
    hearing = [j for j in journeys if wants(j, event.kind, event.url, event.topic)]
    if not hearing:
        return []  # most opens: no journey waits for them, so no payload is built
    when = event.occurred_at.isoformat()
    if event.kind == "page_view":
        signal = temporal_names.SIGNAL_PAGE_VIEW
        url = temporal_url(event.url, redactor) or ""
        payload = {"event_id": str(event.event_id), "url": url, "occurred_at": when, "topic": event.topic}
    else:
        signal = temporal_names.SIGNAL_ENGAGEMENT
        payload = {
            "event_id": str(event.event_id),
            "kind": event.kind,
            "occurred_at": when,
            "item_id": event.item_id,
            "url": temporal_url(event.url, redactor),
        }
    return [OutboxSignal(event.contact_id, event.event_id, j, signal, payload) for j in hearing]
