"""Activity I/O: what journeys pass to activities (sends, scoring, handoffs, stages, SLAs) and get back.

Ids and non-identifying attributes only (contact ids, journey keys, item ids, persona, time zone):
PII stays in the database and is looked up by activities.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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
    variants: dict[str, str] = field(default_factory=dict)  # the contact's experiment arms, recorded on the touch
    held_out: bool = False  # in the journey's holdout: record the touch as held_out, send nothing


@dataclass(frozen=True)
class SendDropResult:
    # sent | unconfirmed | deferred | expired | declined | suppressed | failed | duplicate (another journey sent it)
    # | held_out
    status: str
    touch_id: int | None = None
    deferred_until: datetime | None = None
    message_id: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class ScoreInput:
    contact_id: int
    journey: str
    now: datetime
    # Grade the contact and apply the journey's MQL rule (if it has one). False in histories recorded before fit
    # readiness (patch `workflows.sales.PATCH_FIT_READINESS`): those replay on the score alone, as they ran.
    fit: bool = False


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
    grade: str = ""  # the fit grade (A+ .. D-) when `ScoreInput.fit`; "" otherwise

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
    # Start the journey's handoff SLA clock (`definitions.leads.sla.SLAS`). False in histories recorded before the
    # SLA reached shipped journeys (patch `workflows.sales.PATCH_HANDOFF_SLA`): those wait as they did.
    sla: bool = False


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
