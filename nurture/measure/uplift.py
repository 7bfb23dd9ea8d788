"""Uplift: does a journey (against its holdout) or an experiment's arm (against its control) change an outcome?

Each arm is a count of contacts who entered and of those who reached the outcome within the stated window. The
difference of the two proportions gets a two-sided interval from Newcombe's hybrid score method (method 10 of
Newcombe, "Interval estimation for the difference between independent proportions", Statistics in Medicine 1998),
computed by statsmodels; it stays sensible near 0% and 100% and with small arms, where the textbook Wald interval
does not. The verdict says in plain words what the interval allows, and refuses to call a winner on thin data.

A fixed-sample interval is only honest when read once, at a planned sample size: the console shows it on every
visit, so the verdict also waits for `min_per_arm` contacts and `min_conversions` outcomes before it says more than
"not enough data yet".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from statsmodels.stats.proportion import confint_proportions_2indep

METHOD = "Newcombe hybrid score interval (method 10, 1998) for a difference of two proportions"
MIN_PER_ARM = 100
MIN_CONVERSIONS = 10


class Call(StrEnum):
    """What the interval allows us to say."""

    NOT_ENOUGH_DATA = "not_enough_data"
    AHEAD = "ahead"
    BEHIND = "behind"
    NO_CLEAR_DIFFERENCE = "no_clear_difference"


@dataclass(frozen=True)
class Arm:
    """One arm: `entered` contacts, `converted` of them reached the outcome within the window."""

    name: str
    entered: int
    converted: int

    def __post_init__(self) -> None:
        if self.entered < 0 or self.converted < 0 or self.converted > self.entered:
            raise ValueError(f"arm {self.name!r}: need 0 <= converted ({self.converted}) <= entered ({self.entered})")

    @property
    def rate(self) -> float | None:
        return self.converted / self.entered if self.entered else None


@dataclass(frozen=True)
class Uplift:
    """`treatment` minus `control`, in proportions (0.021 = 2.1 points), with its interval and the verdict."""

    outcome: str
    window_days: int | None
    control: Arm
    treatment: Arm
    difference: float | None
    low: float | None
    high: float | None
    confidence: float
    method: str
    call: Call
    verdict: str


def compare(
    control: Arm,
    treatment: Arm,
    *,
    outcome: str,
    window_days: int | None = None,
    confidence: float = 0.95,
    min_per_arm: int = MIN_PER_ARM,
    min_conversions: int = MIN_CONVERSIONS,
) -> Uplift:
    """Compare two arms on one outcome. Intervals are computed whenever both arms have contacts; the verdict
    names a leader only when the data is enough and the interval excludes zero."""
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    difference = low = high = None
    if control.entered and treatment.entered:
        difference = treatment.converted / treatment.entered - control.converted / control.entered
        lo, hi = confint_proportions_2indep(
            treatment.converted,
            treatment.entered,
            control.converted,
            control.entered,
            method="newcomb",
            compare="diff",
            alpha=1 - confidence,
        )
        low, high = float(lo), float(hi)
    call, verdict = _verdict(control, treatment, difference, low, high, confidence, min_per_arm, min_conversions)
    return Uplift(outcome, window_days, control, treatment, difference, low, high, confidence, METHOD, call, verdict)


def _verdict(
    control: Arm,
    treatment: Arm,
    difference: float | None,
    low: float | None,
    high: float | None,
    confidence: float,
    min_per_arm: int,
    min_conversions: int,
) -> tuple[Call, str]:
    smallest = min(control.entered, treatment.entered)
    conversions = control.converted + treatment.converted
    if difference is None or low is None or high is None or smallest < min_per_arm or conversions < min_conversions:
        return Call.NOT_ENOUGH_DATA, (
            f"not enough data yet: {control.entered} and {treatment.entered} contacts, {conversions} conversions "
            f"(needs {min_per_arm} per arm and {min_conversions} conversions)"
        )
    level = f"{round(confidence * 100):d}% CI"
    span = f"{level} {_points(low)} to {_points(high)}"
    if low > 0:
        return Call.AHEAD, f"{treatment.name} ahead by {_points(difference)} points, {span}"
    if high < 0:
        return Call.BEHIND, f"{treatment.name} behind by {_points(-difference)} points, {span}"
    return Call.NO_CLEAR_DIFFERENCE, (
        f"no clear difference: {treatment.name} {_points(difference, signed=True)} points against "
        f"{control.name}, {span}"
    )


def _points(proportion: float, *, signed: bool = False) -> str:
    value = round(proportion * 100, 1) + 0.0  # + 0.0 turns -0.0 into 0.0
    if math.isclose(value, 0.0, abs_tol=1e-9):
        value = 0.0
    return f"{value:+.1f}" if signed else f"{value:.1f}"
