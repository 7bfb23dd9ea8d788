"""A journey's funnel, from the database (never from Temporal): who entered, how far each drop got, who left why.

Per journey: entered, still running, exited by reason. Per scheduled drop (by position: `drop 1`, `drop 2`, ...)
and per broadcast: touches that reached it by status, then delivered, opened by people, opened by machines
(Apple MPP, scanners: shown apart, never counted as engagement), clicked by people (machine clicks apart), each as
distinct touches; and the mean time from entry to the drop and from the drop to its first open and click.

Engagement and times come from the rollup's counters (`nurture.measure.rollup`, a few dozen rows per journey);
touch statuses and exits are grouped live over indexes of `nurture.db.funnel`. Lifecycle stages (MQL, SQL,
customer) join this funnel once their table exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from nurture.db.tables import ENROLLMENT, FUNNEL_COUNT, TOUCH
from nurture.measure import rollup

_POSITION = re.compile(r"^drop (\d+)$")

T = TOUCH.c
C = FUNNEL_COUNT.c
N = ENROLLMENT.c


@dataclass(frozen=True)
class StepFunnel:
    """One drop position (or one broadcast) of a journey."""

    step: str
    position: int | None  # 1, 2, ... for scheduled drops; None for a broadcast
    reached: int  # touches written for this step, whatever their status
    by_status: dict[str, int]  # sent, suppressed, failed, unconfirmed, ...
    delivered: int
    opened: int  # opened by a person
    machine_opened: int  # touches with a machine open (Apple MPP, scanners): shown apart, never engagement
    clicked: int  # clicked by a person
    machine_clicked: int  # touches with a scanner's click
    mean_days_from_entry: float | None
    mean_hours_to_open: float | None
    mean_hours_to_click: float | None

    @property
    def sent(self) -> int:
        return self.by_status.get("sent", 0)


@dataclass(frozen=True)
class Funnel:
    journey: str
    entered: int
    running: int
    exited: dict[str, int]  # outcome -> contacts whose enrollment ended that way
    steps: list[StepFunnel] = field(default_factory=list)  # scheduled drops by position, then broadcasts

    @property
    def exited_total(self) -> int:
        return sum(self.exited.values())


def journeys(conn: Connection) -> list[str]:
    """Journeys that have enrolled anyone, by name."""
    return [str(j) for j in conn.execute(select(N.journey).group_by(N.journey).order_by(N.journey)).scalars()]


def funnel(conn: Connection, journey: str) -> Funnel:
    """The funnel of one journey as of the last `rollup.refresh` (touch statuses and exits are live)."""
    entered, running, exited = _enrollments(conn, journey)
    by_step: dict[str, dict[str, int]] = {}
    for step, status, n in conn.execute(
        select(T.step, T.status, func.count()).where(T.journey == journey).group_by(T.step, T.status)
    ).all():
        by_step.setdefault(str(step), {})[str(status)] = int(n)
    counts: dict[str, dict[tuple[str, bool], tuple[int, float | None]]] = {}
    for step, measure, machine, n, timed, seconds in conn.execute(
        select(C.step, C.measure, C.machine, C.n, C.timed, C.seconds).where(C.journey == journey)
    ).all():
        counts.setdefault(str(step), {})[(str(measure), bool(machine))] = (int(n), seconds / timed if timed else None)
    steps = []
    for step, by_status in by_step.items():
        got = counts.get(step, {})
        match = _POSITION.match(step)

        def n(measure: str, machine: bool = False, got: dict[tuple[str, bool], Any] = got) -> int:
            return int(got.get((measure, machine), (0, None))[0])

        def mean(measure: str, scale: float, got: dict[tuple[str, bool], Any] = got) -> float | None:
            value = got.get((measure, False), (0, None))[1]
            return None if value is None else value / scale

        steps.append(
            StepFunnel(
                step=step,
                position=int(match.group(1)) if match else None,
                reached=sum(by_status.values()),
                by_status=by_status,
                delivered=n("delivered"),
                opened=n("opened"),
                machine_opened=n("opened", True),
                clicked=n("clicked"),
                machine_clicked=n("clicked", True),
                mean_days_from_entry=mean(rollup.ENTRY, 86400.0),
                mean_hours_to_open=mean("opened", 3600.0),
                mean_hours_to_click=mean("clicked", 3600.0),
            )
        )
    steps.sort(key=lambda s: (s.position is None, s.position or 0, s.step))
    return Funnel(journey=journey, entered=entered, running=running, exited=exited, steps=steps)


def _enrollments(conn: Connection, journey: str) -> tuple[int, int, dict[str, int]]:
    rows = conn.execute(
        select(N.outcome, N.ended_at.is_(None).label("running"), func.count())
        .where(N.journey == journey)
        .group_by(N.outcome, N.ended_at.is_(None))
    ).all()
    entered = sum(int(n) for _, _, n in rows)
    running = sum(int(n) for _, is_running, n in rows if is_running)
    exited: dict[str, int] = {}
    for outcome, is_running, n in rows:
        if not is_running:
            key = str(outcome or "ended")
            exited[key] = exited.get(key, 0) + int(n)
    return entered, running, dict(sorted(exited.items(), key=lambda kv: -kv[1]))


def summary(conn: Connection, journey: str) -> Funnel:
    """Entered, running and exits only (one grouped query): the journeys index."""
    entered, running, exited = _enrollments(conn, journey)
    return Funnel(journey=journey, entered=entered, running=running, exited=exited)
