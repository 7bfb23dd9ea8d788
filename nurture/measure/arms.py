"""Uplift from the database: a journey against its holdout, or an experiment's arm against its control.

Each enrolled contact is put in an arm by `workflows.experiments` (the same pure function the journey uses, so
no arm column is needed to be right); it converted when an outcome event (a click, a goal event, a sales
verdict: any event kind, people's only, optionally on a URL prefix) happened within `window_days` of its
enrollment. Only contacts enrolled at least `window_days` ago count: a contact enrolled yesterday has not had its
window yet and would dilute every arm alike. One query: the journey's enrollments (`ix_enrollment_journey_ended`)
left-joined to their first outcome event after enrollment (`ix_event_contact_occurred`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Table, and_, false, func, select
from sqlalchemy.engine import Connection

from nurture.clock import utcnow
from nurture.db import Enrollment, Event
from nurture.measure.uplift import Arm, Uplift, compare
from workflows.experiments import HOLDOUT, TREATED, Experiment, holdout_arm

ENROLLMENT: Table = Enrollment.__table__  # type: ignore[attr-defined]
EVENT: Table = Event.__table__  # type: ignore[attr-defined]
N, E = ENROLLMENT.c, EVENT.c


@dataclass(frozen=True)
class Outcome:
    """What counts as converting: an event kind (people's, never machines'), optionally on a URL prefix."""

    kind: str
    url_prefix: str | None = None

    @property
    def label(self) -> str:
        return f"{self.kind} {self.url_prefix}*" if self.url_prefix else self.kind


CLICK = Outcome("clicked")


def journey_uplift(
    conn: Connection,
    journey: str,
    outcome: Outcome,
    window_days: int,
    *,
    holdout_share: float,
    now: datetime | None = None,
) -> Uplift:
    """The journey's treated contacts against its held-out ones."""
    arms = _arms(conn, journey, outcome, window_days, lambda c: holdout_arm(journey, holdout_share, c), now)
    return compare(
        arms.get(HOLDOUT, Arm(HOLDOUT, 0, 0)),
        arms.get(TREATED, Arm(TREATED, 0, 0)),
        outcome=outcome.label,
        window_days=window_days,
    )


def experiment_uplift(
    conn: Connection,
    journey: str,
    experiment: Experiment,
    outcome: Outcome,
    window_days: int,
    *,
    treatment: str | None = None,
    holdout_share: float = 0.0,
    now: datetime | None = None,
) -> Uplift:
    """An arm (the second, unless named) against the experiment's control (its first arm), among the journey's
    treated contacts: held-out contacts never saw any arm."""

    def assign(contact_id: int) -> str | None:
        if holdout_share and holdout_arm(journey, holdout_share, contact_id) == HOLDOUT:
            return None
        return experiment.arm(contact_id)

    arms = _arms(conn, journey, outcome, window_days, assign, now)
    control, other = experiment.arms[0], treatment or experiment.arms[1]
    if other not in experiment.arms:
        raise ValueError(f"experiment {experiment.key!r} has no arm {other!r}")
    return compare(
        arms.get(control, Arm(control, 0, 0)),
        arms.get(other, Arm(other, 0, 0)),
        outcome=outcome.label,
        window_days=window_days,
    )


def comparisons(
    conn: Connection,
    journey: str,
    outcome: Outcome,
    window_days: int,
    *,
    holdout_share: float,
    experiments: Sequence[Experiment] = (),
    now: datetime | None = None,
) -> list[Uplift]:
    """Everything a journey's uplift panel shows: treated vs holdout (when it has one), then each experiment's
    arms against its control. The console and `nurture report uplift` both read this; render it with
    `nurture.measure.charts.svg(charts.uplift_report(journey, comparisons(...)))`."""
    out = []
    if holdout_share > 0:
        out.append(journey_uplift(conn, journey, outcome, window_days, holdout_share=holdout_share, now=now))
    for e in experiments:
        for arm in e.arms[1:]:
            out.append(
                experiment_uplift(
                    conn, journey, e, outcome, window_days, treatment=arm, holdout_share=holdout_share, now=now
                )
            )
    return out


def _arms(
    conn: Connection,
    journey: str,
    outcome: Outcome,
    window_days: int,
    assign: Callable[[int], str | None],
    now: datetime | None,
) -> dict[str, Arm]:
    if window_days <= 0:
        raise ValueError("window_days must be positive")
    window = timedelta(days=window_days)
    cutoff = (now or utcnow()) - window
    on = and_(
        E.contact_id == N.contact_id,
        E.occurred_at >= N.enrolled_at,
        E.kind == outcome.kind,
        E.machine == false(),
    )
    if outcome.url_prefix:
        on = and_(on, E.url.startswith(outcome.url_prefix, autoescape=True))
    rows = conn.execute(
        select(N.contact_id, N.enrolled_at, func.min(E.occurred_at))
        .select_from(ENROLLMENT.outerjoin(EVENT, on))
        .where(N.journey == journey, N.enrolled_at <= cutoff)
        .group_by(N.contact_id, N.enrolled_at)
    ).all()
    entered: dict[str, int] = {}
    converted: dict[str, int] = {}
    for contact_id, enrolled_at, first in rows:
        arm = assign(int(contact_id))
        if arm is None:
            continue
        entered[arm] = entered.get(arm, 0) + 1
        if first is not None and _utc(first) - _utc(enrolled_at) <= window:
            converted[arm] = converted.get(arm, 0) + 1
    return {arm: Arm(arm, n, converted.get(arm, 0)) for arm, n in entered.items()}


def _utc(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value  # SQLite's untyped aggregate
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
