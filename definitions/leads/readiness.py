"""When a lead is ready for sales (MQL), and how ready leads rank. Owner: marketing with sales. Pure.

The MQL rule reads both axes: fit (the grade and the profile facts behind it) and behaviour (the decayed score
and its top contributions). Default: grade B or better with a score of 45 or more, or grade A- or better with a
recent pricing-page visit. A high score from a poor-fit contact is not enough.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from definitions.leads.fit import Grade
from workflows.dsl import Contribution, Engagement, ScoringRules, register_readiness
from workflows.dsl import MqlRule as MqlRule  # the rule type, re-exported: it lives with the registry

STRONG_SIGNALS = ("pricing page", "form_fill", "event_attended")


@dataclass(frozen=True)
class Readiness:
    ready: bool
    grade: Grade
    score: float
    top: tuple[Contribution, ...]
    signals: tuple[str, ...]
    why: str


def recent_signals(
    events: Iterable[Engagement], now: datetime, rules: ScoringRules, window: timedelta = timedelta(days=14)
) -> tuple[str, ...]:
    """The strong signals (by scoring label) seen in the last `window`, in a stable order."""
    seen: set[str] = set()
    for event in events:
        if event.machine or not (timedelta(0) <= now - event.occurred_at <= window):
            continue
        label, _ = rules.value(event)
        if label in STRONG_SIGNALS:
            seen.add(label)
    return tuple(s for s in STRONG_SIGNALS if s in seen)


def evaluate_readiness(
    grade: Grade,
    score: float,
    top: Sequence[Contribution],
    signals: Sequence[str],
    rule: MqlRule = MqlRule(),
) -> Readiness:
    """The MQL decision with an explanation naming the grade's facts and the score's top contributions."""
    behaviour = ", ".join(f"{c.label} {c.points:g} ({c.count}x)" for c in top[:3]) or "no engagement"
    fit = grade.explain()
    score_side = f"score {score:g} vs {rule.min_score:g}: {behaviour}"
    if grade.at_least(rule.min_grade) and score >= rule.min_score:
        verdict = f"ready: {fit}; {score_side}"
        return Readiness(True, grade, score, tuple(top), tuple(signals), verdict)
    if grade.at_least(rule.strong_grade) and rule.strong_signal in signals:
        verdict = f"ready: {fit}; recent {rule.strong_signal} visit; {score_side}"
        return Readiness(True, grade, score, tuple(top), tuple(signals), verdict)
    missing = []
    if not grade.at_least(rule.min_grade):
        missing.append(f"fit below {rule.min_grade}")
    if score < rule.min_score:
        missing.append(f"score below {rule.min_score:g}")
    verdict = f"not ready ({' and '.join(missing) or 'no rule met'}): {fit}; {score_side}"
    return Readiness(False, grade, score, tuple(top), tuple(signals), verdict)


# Journeys whose `j.ready()` uses fit and behaviour register their rule here (key = journey key); a journey not
# listed compares its score with its threshold.
READINESS: dict[str, MqlRule] = {}
register_readiness(READINESS)


def rule_for(journey: str) -> MqlRule | None:
    return READINESS.get(journey)


def rank_value(grade: Grade, score: float, signals: Sequence[str], value: float) -> float:
    """One number to order leads by: fit first, then behaviour, fresh strong signals, and money already spent."""
    return round(grade.steps * 10 + min(score, 100.0) + 12 * len(signals) + 5 * math.log10(1 + max(value, 0)), 3)


def rank_why(grade: Grade, score: float, signals: Sequence[str], value: float) -> str:
    parts = [f"grade {grade.letter}", f"score {score:g}"]
    if signals:
        parts.append("recent " + ", ".join(signals))
    if value > 0:
        parts.append(f"orders worth {value:g}")
    return "; ".join(parts)
