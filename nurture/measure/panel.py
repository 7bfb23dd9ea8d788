"""The console's "experiments and uplift" panel: a journey with a holdout, against its held-out contacts.

Rows are plain strings for the template; the numbers and the verdict come from `nurture.measure.arms` (the same
function `nurture report uplift` reads), so the console and the report always agree.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from nurture.measure.arms import CLICK, journey_uplift
from nurture.measure.uplift import Arm, Uplift
from workflows.dsl import REGISTRY

WINDOW_DAYS = 30  # the panel's stated window: a click within 30 days of entering


def console_panel(conn: Connection, journey: str) -> list[dict[str, object]]:
    """One entry per comparison the journey declares (today its holdout); empty when it declares none."""
    spec = REGISTRY.get(journey)
    if spec is None or spec.holdout <= 0:
        return []
    result = journey_uplift(conn, journey, CLICK, WINDOW_DAYS, holdout_share=spec.holdout)
    return [
        {
            "name": f"{journey} against its {spec.holdout:.0%} holdout: {result.outcome} within {WINDOW_DAYS} days",
            "verdict": result.verdict,
            "headers": ["arm", "contacts", "converted", "rate"],
            "rows": [_row(result.control), _row(result.treatment), _difference(result)],
        }
    ]


def _row(arm: Arm) -> list[str]:
    rate = "-" if arm.rate is None else f"{arm.rate:.1%}"
    return [arm.name, str(arm.entered), str(arm.converted), rate]


def _difference(result: Uplift) -> list[str]:
    if result.difference is None or result.low is None or result.high is None:
        return ["difference", "-", "-", "-"]
    span = f"{result.difference * 100:+.1f} pts ({result.low * 100:+.1f} to {result.high * 100:+.1f})"
    return ["difference, 95% CI", "", "", span]
