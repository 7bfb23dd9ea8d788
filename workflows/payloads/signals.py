"""Signals a journey hears (event nouns): engagement, page views, broadcasts, control, feedback.

Ids and non-identifying attributes only (contact ids, journey keys, item ids, persona, time zone):
PII stays in the database and is looked up by activities.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class EngagementEvent:
    """An email was opened or clicked (machine opens never reach a journey)."""

    event_id: str
    kind: str  # opened | clicked
    occurred_at: datetime
    item_id: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class PageView:
    event_id: str
    url: str
    occurred_at: datetime
    topic: str | None = None


@dataclass(frozen=True)
class BroadcastNotice:
    """An unscheduled drop offered to a running journey; the journey's definition decides relevance."""

    broadcast_id: str
    kind: str  # product_launch | regulation | announcement
    item_id: str
    topics: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PauseRequest:
    """Bulk control: pause (send nothing, keep hearing events) or resume; the operation that asked, if any."""

    operation_id: int | None = None


@dataclass(frozen=True)
class PreferenceChange:
    """The contact changed its choices in the preference center (fields left None did not change)."""

    contact_id: int
    topics: list[str] | None = None
    frequency: str | None = None
    snoozed_until: str | None = None  # ISO time; the drop claim enforces it, the journey only shows it


@dataclass(frozen=True)
class ExitRequest:
    reason: str  # unsubscribe | bounce | complaint | dropped | manual
    event_id: str | None = None


@dataclass(frozen=True)
class SalesFeedback:
    accepted: bool
    reason: str = ""
    handoff_id: int | None = None
