"""Uplift from the database: a journey against its holdout, or an experiment's arm against its control.

A contact's arm is what its touches recorded, never recomputed: held out when the journey recorded its touches
as `held_out`, treated when it made any other touch; in experiment `key`, the arm its latest touch recorded in
`touch.variants` (the journalled arm, kept even if the weights were edited since). A contact
with no touch in the journey yet is in no arm. It converted when the outcome (`nurture.measure.outcomes`: an
event kind or a lifecycle stage) was first reached within `window_days` of its enrollment. Only contacts
enrolled at least `window_days` ago count: a contact enrolled yesterday has not had its window yet and would
dilute every arm alike.

`cohort` reads every enrolled contact once (one query: the journey's enrollments, `ix_enrollment_journey_ended`,
with correlated lookups of their latest touch, `ix_touch_contact_journey`, and their first outcome,
`ix_event_contact_kind`); the holdout comparison and every experiment are tallies over that one read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import String, cast, func, literal, select, text
from sqlalchemy.engine import Connection

from nurture.clock import utcnow
from nurture.db.tables import ENROLLMENT, TOUCH
from nurture.db.touch import TouchStatus
from nurture.measure.outcomes import CLICK, EventOutcome, Outcome, StageOutcome
from nurture.measure.uplift import Arm, Uplift, compare
from workflows.experiments import HOLDOUT, TREATED, Experiment

__all__ = ["CLICK", "EventOutcome", "Member", "Outcome", "StageOutcome", "cohort", "comparisons"]

LAST = TOUCH.alias("last_touch")
N, T = ENROLLMENT.c, TOUCH.c


@dataclass(frozen=True)
class Member:
    """One enrolled contact whose window has passed: what its touches recorded, and whether it converted."""

    contact_id: int
    held_out: bool | None  # None: no touch in this journey yet (in no arm)
    arms: dict[str, str]  # experiment key -> recorded arm
    converted: bool


def cohort(
    conn: Connection,
    journey: str,
    outcome: Outcome,
    window_days: int,
    keys: Iterable[str] = (),
    now: datetime | None = None,
) -> list[Member]:
    """Every contact enrolled in `journey` at least `window_days` before `now`, with its recorded arms.

    Per enrollment, two index probes: the first outcome after enrolling, and the contact's latest touch in the
    journey (`ix_touch_contact_journey`, index only), read by primary key for its status and arms. The latest
    touch is enough: a journey sends the arms it has so far with every drop (`carry.variants`: journalled,
    never changed, only added to), and the holdout holds every drop or none."""
    if window_days <= 0:
        raise ValueError("window_days must be positive")
    keys = list(keys)
    window = timedelta(days=window_days)
    latest = select(func.max(T.id)).where(T.contact_id == N.contact_id, T.journey == journey).scalar_subquery()
    last = (
        select(LAST.c.status + literal(" ") + cast(LAST.c.variants, String))
        .where(LAST.c.id == latest.correlate(ENROLLMENT))
        .correlate(ENROLLMENT)
        .scalar_subquery()
    )
    query = select(N.contact_id, N.enrolled_at, outcome.first_reached(), last).where(
        N.journey == journey, N.enrolled_at <= (now or utcnow()) - window
    )
    if conn.dialect.name == "postgresql":  # its JIT compiles this many-probe query for longer than it runs
        conn.execute(text("SET LOCAL jit = off"))  # (to the end of the caller's transaction, a read)
    out = []
    rows = conn.execute(query).all()
    for contact_id, enrolled_at, first, recorded in rows:
        status, _, variants = (recorded or "").partition(" ")
        arms = json.loads(variants) if variants else {}
        out.append(
            Member(
                contact_id=int(contact_id),
                held_out=None if recorded is None else status == TouchStatus.HELD_OUT.value,
                arms={k: str(arms[k]) for k in keys if arms.get(k) is not None},
                converted=first is not None and _utc(first) - _utc(enrolled_at) <= window,
            )
        )
    return out


def holdout_of(member: Member) -> str | None:
    """The member's arm of the journey-against-holdout comparison."""
    return None if member.held_out is None else HOLDOUT if member.held_out else TREATED


def arm_in(experiment: Experiment) -> Callable[[Member], str | None]:
    """The member's recorded arm of `experiment`; held-out contacts never saw an arm and are left out."""
    return lambda m: None if m.held_out is not False else m.arms.get(experiment.key)


def tally(members: Iterable[Member], arm_of: Callable[[Member], str | None]) -> dict[str, Arm]:
    entered: dict[str, int] = {}
    converted: dict[str, int] = {}
    for m in members:
        arm = arm_of(m)
        if arm is None:
            continue
        entered[arm] = entered.get(arm, 0) + 1
        converted[arm] = converted.get(arm, 0) + m.converted
    return {arm: Arm(arm, n, converted[arm]) for arm, n in entered.items()}


def holdout_uplift(members: Sequence[Member], outcome: Outcome, window_days: int) -> Uplift:
    """The journey's treated contacts against its held-out ones."""
    arms = tally(members, holdout_of)
    return _compare(arms, HOLDOUT, TREATED, outcome, window_days)


def experiment_uplift(
    members: Sequence[Member], experiment: Experiment, outcome: Outcome, window_days: int, treatment: str | None = None
) -> Uplift:
    """An arm (the second, unless named) against the experiment's control (its first arm), among treated contacts."""
    other = treatment or experiment.arms[1]
    if other not in experiment.arms:
        raise ValueError(f"experiment {experiment.key!r} has no arm {other!r}")
    return _compare(tally(members, arm_in(experiment)), experiment.arms[0], other, outcome, window_days)


def comparisons(
    conn: Connection,
    journey: str,
    outcome: Outcome,
    window_days: int,
    *,
    holdout: bool,
    experiments: Sequence[Experiment] = (),
    now: datetime | None = None,
) -> list[Uplift]:
    """Everything a journey's uplift panel shows, from one read: treated against held out (when `holdout`), then
    each experiment's arms against its control. The console and `nurture report uplift` both read this."""
    members = cohort(conn, journey, outcome, window_days, [e.key for e in experiments], now)
    out = [holdout_uplift(members, outcome, window_days)] if holdout else []
    for e in experiments:
        out.extend(experiment_uplift(members, e, outcome, window_days, arm) for arm in e.arms[1:])
    return out


def _compare(arms: dict[str, Arm], control: str, treatment: str, outcome: Outcome, window_days: int) -> Uplift:
    return compare(
        arms.get(control, Arm(control, 0, 0)),
        arms.get(treatment, Arm(treatment, 0, 0)),
        outcome=outcome.label,
        window_days=window_days,
    )


def _utc(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value  # SQLite's untyped aggregate
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
