"""The lifecycle rules activities read, registered by `definitions/leads` (pure: no I/O, no clock).

`load_definitions()` imports `definitions/leads/*`; each registers what it owns here (the stage model and the two
stages a handoff moves a lead to, the MQL rules, the handoff SLAs), the way journeys fill `workflows.dsl.REGISTRY`.
Activities read the rules from here and never import `definitions/`. The types the rules are written with
(`MqlRule`, `SlaPolicy`) live here too and reach definitions through `workflows.dsl`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from workflows.lifecycle import StageModel


@dataclass(frozen=True)
class MqlRule:
    """When a lead is ready for sales: fit and behaviour (`definitions.leads.readiness`)."""

    min_grade: str = "B"
    min_score: float = 45.0
    strong_grade: str = "A-"  # with a strong signal, this grade needs no minimum score
    strong_signal: str = "pricing page"
    signal_window: timedelta = timedelta(days=14)


@dataclass(frozen=True)
class SlaPolicy:
    """How fast sales must accept a handed-off lead, in business hours (`definitions.leads.sla`)."""

    business_hours: float = 8.0  # one working day
    open_hour: int = 9
    close_hour: int = 17
    weekdays: frozenset[int] = frozenset(range(5))  # Monday = 0
    max_misses: int = 2
    escalate_to: str = "team lead"


@dataclass(frozen=True)
class HandoffStages:
    """The stage model, the stage a handed-off lead reaches, and the stage a lead sales rejects returns to."""

    model: StageModel
    qualified: str
    recycled: str


@dataclass
class _Rules:
    stages: HandoffStages | None = None
    readiness: dict[str, MqlRule] = field(default_factory=dict)
    slas: dict[str, SlaPolicy] = field(default_factory=dict)
    default_sla: SlaPolicy = field(default_factory=SlaPolicy)


_RULES = _Rules()


def register_stage_model(model: StageModel, *, qualified: str, recycled: str) -> None:
    model.check(qualified)
    model.check(recycled)
    _RULES.stages = HandoffStages(model, qualified, recycled)


def register_readiness(rules: dict[str, MqlRule]) -> None:
    """Journeys whose `j.ready()` uses fit and behaviour, by journey key (the dict itself: later edits count)."""
    _RULES.readiness = rules


def register_slas(slas: dict[str, SlaPolicy], *, default: SlaPolicy) -> None:
    """Journeys whose handoffs run on an SLA, by journey key (the dict itself), and the policy of the rest."""
    _RULES.slas = slas
    _RULES.default_sla = default


def handoff_stages() -> HandoffStages:
    if _RULES.stages is None:
        raise LookupError("no stage model registered: call definitions.load_definitions() first")
    return _RULES.stages


def rule_for(journey: str) -> MqlRule | None:
    return _RULES.readiness.get(journey)


def sla_for(journey: str) -> SlaPolicy | None:
    return _RULES.slas.get(journey)


def default_sla() -> SlaPolicy:
    return _RULES.default_sla
