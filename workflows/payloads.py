"""Payloads that cross the Temporal boundary: workflow inputs, signals, query results, activity I/O.

Ids and non-identifying attributes only (contact ids, journey keys, item ids, persona, time zone):
PII stays in the database and is looked up by activities.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# ---- signals (event nouns) -------------------------------------------------------------------------------


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


# ---- journey workflow I/O ------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxEvent:
    """A signal as the storyboard sees it: what `wait_for` matches against."""

    seq: int
    kind: str  # opened | clicked | page_view | broadcast
    at: datetime
    event_id: str | None = None
    url: str | None = None
    item_id: str | None = None
    topic: str | None = None
    broadcast_kind: str | None = None


@dataclass(frozen=True)
class StoryView:
    """The storyboard-visible state at one point of a journey (restored while fast-forwarding)."""

    stage: str = "awareness"
    score: float = 0.0
    drops_sent: int = 0
    catalog_exhausted: bool = False
    rejection_reason: str | None = None
    now: datetime | None = None  # the journey clock when the step finished


@dataclass
class JournalEntry:
    """What one storyboard primitive returned; replayed (without side effects) after continue-as-new."""

    op: str
    result: str | None = None  # primitive-specific encoded result
    wake_at: datetime | None = None  # for an unfinished sleep/wait: when it ends
    done: bool = False
    view: StoryView | None = None  # storyboard-visible state after this step


@dataclass(frozen=True)
class DeferredBroadcast:
    """A relevant broadcast held back by the minimum gap; sent when `due` comes."""

    notice: BroadcastNotice
    due: datetime


@dataclass
class JourneyCarry:
    """All state a journey carries across continue-as-new."""

    journal: list[JournalEntry] = field(default_factory=list)
    sla_deadline: datetime | None = None  # the current handoff's SLA deadline, while sales has not answered
    sent_items: list[str] = field(default_factory=list)
    refused_items: list[str] = field(default_factory=list)  # the provider refused them: never sent, never retried
    inbox: list[InboxEvent] = field(default_factory=list)
    inbox_seq: int = 0
    consumed_seq: int = 0
    handled_broadcasts: list[str] = field(default_factory=list)
    pending_broadcasts: list[BroadcastNotice] = field(default_factory=list)
    deferred_broadcasts: list[DeferredBroadcast] = field(default_factory=list)
    seen_event_ids: list[str] = field(default_factory=list)
    signals_received: int = 0  # distinct events heard (duplicates from at-least-once delivery not counted)
    phase: str = "nurturing"
    failures: int = 0
    exit_reason: str | None = None
    paused: bool = False  # bulk control: the journey sends nothing until resumed
    topics: list[str] | None = None  # the contact's own choice (preference center), over the enrollment's
    sales_feedback: list[SalesFeedback] = field(default_factory=list)
    handoff_id: int | None = None
    score: float = 0.0
    stage: str = "awareness"
    drops_sent: int = 0
    handoffs: int = 0
    rejection_reason: str | None = None
    last_decision: str = ""
    last_why: str = ""
    runs: int = 1
    started_at: datetime | None = None  # first run's start: the epoch of the compressed journey clock
    lifecycle_stage: str | None = None  # as a journey step last moved it (NurtureLifecycleStage); None: not yet
    call_tasks: int = 0  # call tasks asked for so far (the next one's attempt number)
    call_task_id: int | None = None  # the call task being waited for
    call_outcomes: dict[str, str] = field(default_factory=dict)  # task id -> outcome heard (signals)

    @property
    def offered_items(self) -> list[str]:
        """Items never to pick again: sent, and refused by the provider."""
        return [*self.sent_items, *self.refused_items]


@dataclass(frozen=True)
class JourneyInput:
    journey: str
    contact_id: int
    persona: str = "general"
    time_zone: str = "UTC"
    topics: list[str] = field(default_factory=list)
    time_scale: float = 1.0  # >1 compresses every wait (demo); send windows are skipped when compressed
    min_gap_seconds: float = 3 * 86400.0
    history_limit: int = 0  # >0: also continue-as-new past this many history events (server suggests at ~4-10k)
    carry: JourneyCarry | None = None


@dataclass(frozen=True)
class JourneyResult:
    journey: str
    contact_id: int
    outcome: str  # customer | unsubscribed | bounce | complaint | completed | ...
    drops_sent: int
    items: list[str]  # sent (or, rarely, of unknown outcome after every retry); never the refused ones
    items_refused: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class JourneyStatus:
    """Answer to the `status` query: what ops and `nurture status` show."""

    journey: str
    contact_id: int
    phase: str  # nurturing | with_sales | cooling_down | ended (nurture.keys.PHASES)
    step: str
    stage: str
    lead_score: float
    next_wake_at: datetime | None
    drops_sent: int
    items_sent: list[str]
    last_decision: str
    why: str
    pending_broadcasts: int
    handled_broadcasts: list[str]
    run: int
    signals_received: int = 0
    items_refused: list[str] = field(default_factory=list)


# ---- activity I/O --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendDropInput:
    contact_id: int
    journey: str
    workflow_id: str
    item_id: str
    step: str
    reason: str
    now: datetime  # workflow time: the gap check and the touch use it, so simulated time works
    min_gap_seconds: float
    broadcast_id: str | None = None
    priority: int | None = None  # nurture.db.DropPriority; None = broadcast for a broadcast, else drip
    time_scale: float = 1.0  # compressed journeys (demo, tests) skip calendar caps and quiet time, as for windows


@dataclass(frozen=True)
class SendDropResult:
    status: str  # sent | unconfirmed | deferred | expired | suppressed | failed | duplicate (another journey sent it)
    touch_id: int | None = None
    deferred_until: datetime | None = None
    message_id: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class ScoreInput:
    contact_id: int
    journey: str
    now: datetime


@dataclass(frozen=True)
class ScoreContribution:
    kind: str
    points: float
    count: int


@dataclass(frozen=True)
class ScoreResult:
    score: float
    stage: str
    top: list[ScoreContribution] = field(default_factory=list)
    # Set when the journey has a fit-and-behaviour MQL rule (`definitions.leads.readiness.READINESS`): the
    # decision and its explanation naming both axes. None: the journey compares the score with its threshold
    # (and histories recorded before this field replay unchanged).
    ready: bool | None = None
    ready_why: str = ""

    def explain(self) -> str:
        parts = ", ".join(f"{c.kind} x{c.count} = {c.points:.1f}" for c in self.top)
        return f"score {self.score:.1f} ({parts or 'no engagement yet'})"


@dataclass(frozen=True)
class HandoffInput:
    contact_id: int
    journey: str
    workflow_id: str
    attempt: int  # nth handoff of this journey run: part of the idempotency key
    score: float
    reason: str
    now: datetime


@dataclass(frozen=True)
class HandoffResult:
    handoff_id: int
    delivered: bool
    detail: str = ""
    # Set when the journey has a handoff SLA (`definitions.leads.sla.SLAS`): when sales must have accepted, in
    # business hours of the routed owner. None: no SLA (histories recorded before this field replay unchanged).
    sla_deadline: datetime | None = None
    lifecycle_stage: str | None = None  # the contact's stage once handed off (mql); None in older histories


@dataclass(frozen=True)
class ReachStageInput:
    contact_id: int
    stage: str
    workflow_id: str
    why: str
    now: datetime


@dataclass(frozen=True)
class EscalateInput:
    handoff_id: int
    contact_id: int
    journey: str
    now: datetime


@dataclass(frozen=True)
class EscalateResult:
    misses: int
    recycle: bool  # the SLA was missed too often: recycle the lead, "SLA missed"
    owner: str | None  # the owner the lead was re-routed to
    sla_deadline: datetime | None  # the new owner's deadline (None when recycling)
    why: str


@dataclass(frozen=True)
class JourneyEndInput:
    contact_id: int
    journey: str
    workflow_id: str
    outcome: str
    now: datetime
    feedback_reason: str | None = None


@dataclass(frozen=True)
class SalesFeedbackInput:
    handoff_id: int
    accepted: bool | None  # None: no feedback before the timeout
    reason: str
    now: datetime


@dataclass(frozen=True)
class BroadcastOutcomeInput:
    broadcast_id: str
    workflow_id: str
    contact_id: int
    outcome: str  # dropped | deferred | skipped | failed
    reason: str
    now: datetime
