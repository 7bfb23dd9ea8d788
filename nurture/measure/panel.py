"""The console's "experiments and uplift" panel: a journey against its holdout, and each experiment's arms.

Rows are plain strings for the template; the numbers and the verdict come from `nurture.measure.arms.comparisons`
(the same function `nurture report uplift` reads, with the same outcome and window), so the console and the
report always agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from nurture.measure.arms import CLICK, comparisons
from nurture.measure.outcomes import Outcome
from nurture.measure.uplift import Arm, Uplift
from workflows.dsl import REGISTRY
from workflows.experiments import HOLDOUT

WINDOW_DAYS = 30  # the panel's default window: the outcome within 30 days of entering


@dataclass(frozen=True)
class PanelEntry:
    """One comparison as the page shows it: `kind` is "holdout" or "experiment", `key` the experiment's key."""

    kind: str
    key: str
    name: str
    verdict: str
    method: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def console_panel(
    conn: Connection, journey: str, outcome: Outcome = CLICK, window_days: int = WINDOW_DAYS
) -> list[PanelEntry]:
    """One entry per comparison the journey declares (its holdout, then each experiment arm against control);
    empty when it declares none (no invented numbers)."""
    spec = REGISTRY.get(journey)
    if spec is None or (spec.holdout <= 0 and not spec.experiments):
        return []
    found = comparisons(conn, journey, outcome, window_days, holdout=spec.holdout > 0, experiments=spec.experiments)
    keys = ([HOLDOUT] if spec.holdout > 0 else []) + [e.key for e in spec.experiments for _ in e.arms[1:]]
    within = f"{outcome.label} within {window_days} days"
    out = []
    for key, result in zip(keys, found, strict=True):
        if key == HOLDOUT:
            name, kind = f"{journey} against its {spec.holdout:.0%} holdout: {within}", "holdout"
        else:
            versus = f"{result.treatment.name} against {result.control.name}"
            name, kind = f"experiment {key}: {versus}, {within}", "experiment"
        out.append(
            PanelEntry(
                kind=kind,
                key=key,
                name=name,
                verdict=result.verdict,
                method=result.method,
                headers=("arm", "contacts", "converted", "rate"),
                rows=(_row(result.control), _row(result.treatment), _difference(result)),
            )
        )
    return out


def _row(arm: Arm) -> tuple[str, ...]:
    rate = "-" if arm.rate is None else f"{arm.rate:.1%}"
    return (arm.name, str(arm.entered), str(arm.converted), rate)


def _difference(result: Uplift) -> tuple[str, ...]:
    if result.difference is None or result.low is None or result.high is None:
        return ("difference, 95% CI", "", "", "-")
    span = f"{result.difference * 100:+.1f} pts ({result.low * 100:+.1f} to {result.high * 100:+.1f})"
    return ("difference, 95% CI", "", "", span)
