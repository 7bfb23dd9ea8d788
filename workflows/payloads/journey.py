"""Journey workflow I/O: its input, carry across continue-as-new, result and status query answer.

Ids and non-identifying attributes only (contact ids, journey keys, item ids, persona, time zone):
PII stays in the database and is looked up by activities.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from workflows.payloads.signals import BroadcastNotice, SalesFeedback

# What current starters put in `JourneyInput.runtime_version` (see `workflows.runtime_version`). Version 2
# (December 2026): the runtime patches "phase-ended-on-close", "lifecycle-stage-sa" and
# "topics-upsert-on-preferences" without their markers, and one coalesced search-attribute upsert at the end.
# Version 3 (December 2026): also "holdout", "readiness-fit-and-behaviour", "handoff-sla" and
# "rhythm-after-deferral" without markers.
# Version 4 (December 2026): no search-attribute upsert at the end. The closed execution's status says it ended
# and its result holds the final stage, score and drops; the search attributes stay as at the journey's last wait
# (ops filter live journeys with `ExecutionStatus = 'Running'`, as every nurture query already does). One history
# event per journey, the last one nurture had over a hand-written workflow with the same steps.
# Version 5 (December 2026): NurtureDropsSent after a broadcast drop rides along with the next upsert instead of
# one of its own (`workflows.visibility`).
RUNTIME_VERSION = 5


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
    grade: str = ""  # the fit grade the last readiness check found ("" before one, and in older journals)


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
    # how long the last scheduled drop was held back by the claim (workflow seconds), for the journey's rhythm
    rhythm_lag_seconds: float = 0.0
    topics: list[str] | None = None  # the contact's own choice (preference center), over the enrollment's
    sales_feedback: list[SalesFeedback] = field(default_factory=list)
    handoff_id: int | None = None
    score: float = 0.0
    grade: str = ""  # fit grade (A+ .. D-) from the last readiness check; "" before one
    stage: str = "awareness"
    drops_sent: int = 0
    handoffs: int = 0
    rejection_reason: str | None = None
    last_decision: str = ""
    last_why: str = ""
    runs: int = 1
    started_at: datetime | None = None  # first run's start: the epoch of the compressed journey clock
    variants: dict[str, str] = field(default_factory=dict)  # experiment key -> arm (workflows.variants)
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
    # The runtime behaviour this journey was started with (`workflows.runtime_version`); kept across
    # continue-as-new. 1, the default, is every journey started before the field existed: its runtime changes are
    # decided by `workflow.patched` markers. Starters set `RUNTIME_VERSION`.
    runtime_version: int = 1


@dataclass(frozen=True)
class JourneyResult:
    journey: str
    contact_id: int
    outcome: str  # customer | unsubscribed | bounce | complaint | completed | ...
    drops_sent: int
    items: list[str]  # sent (or, rarely, of unknown outcome after every retry); never the refused ones
    items_refused: list[str] = field(default_factory=list)
    # The journey's last stage and lead score (search attributes of an ended journey may predate its end).
    stage: str | None = None
    lead_score: float | None = None


@dataclass(frozen=True)
class JourneyStatus:
    """Answer to the `status` query: what ops and `nurture status` show."""

    journey: str
    contact_id: int
    phase: str  # nurturing | with_sales | cooling_down | ended (nurture.search_attributes.PHASES)
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
    variants: dict[str, str] = field(default_factory=dict)  # experiment key -> arm
    paused: bool = False  # by an operator (bulk control): sends nothing, keeps hearing events, until resumed
