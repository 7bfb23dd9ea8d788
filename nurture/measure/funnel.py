"""A journey's funnel, from the database (never from Temporal): who entered, how far each drop got, who left why.

Per journey: entered, still running, exited by reason. Per scheduled drop (by position: `drop 1`, `drop 2`, ...)
and per broadcast: touches that reached it by status, then delivered, opened by people, opened by machines
(Apple MPP, scanners: shown apart, never counted as engagement), clicked by people (machine clicks apart), each as
distinct touches; and the mean time from entry to the drop and from the drop to its first open and click.

Three grouped queries, each served by an index of `nurture.db.funnel`; cost grows with the journey's touches and
events, not with the rest of the database. Lifecycle stages (MQL, SQL, customer) join this funnel once their
table exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.engine import Connection

from nurture.db import Enrollment, Event, Touch

ENGAGEMENT = ("delivered", "opened", "clicked")
_POSITION = re.compile(r"^drop (\d+)$")

T = Touch.__table__.c  # type: ignore[attr-defined]
E = Event.__table__.c  # type: ignore[attr-defined]
N = Enrollment.__table__.c  # type: ignore[attr-defined]


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


def _seconds(later: Any, earlier: Any, dialect: str) -> ColumnElement[Any]:
    if dialect == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return func.extract("epoch", later - earlier)


def journeys(conn: Connection) -> list[str]:
    """Journeys that have enrolled anyone, by name."""
    return [str(j) for j in conn.execute(select(N.journey).group_by(N.journey).order_by(N.journey)).scalars()]


def funnel(conn: Connection, journey: str) -> Funnel:
    """The funnel of one journey (three grouped queries)."""
    dialect = conn.dialect.name
    entered, running, exited = _enrollments(conn, journey)
    reached = _touches(conn, journey, dialect)
    engaged = _engagement(conn, journey, dialect)
    steps = []
    for step, (by_status, days) in reached.items():
        got = engaged.get(step, {})
        match = _POSITION.match(step)
        steps.append(
            StepFunnel(
                step=step,
                position=int(match.group(1)) if match else None,
                reached=sum(by_status.values()),
                by_status=by_status,
                delivered=got.get(("delivered", False), (0, None))[0],
                opened=got.get(("opened", False), (0, None))[0],
                machine_opened=got.get(("opened", True), (0, None))[0],
                clicked=got.get(("clicked", False), (0, None))[0],
                machine_clicked=got.get(("clicked", True), (0, None))[0],
                mean_days_from_entry=days,
                mean_hours_to_open=_hours(got.get(("opened", False), (0, None))[1]),
                mean_hours_to_click=_hours(got.get(("clicked", False), (0, None))[1]),
            )
        )
    steps.sort(key=lambda s: (s.position is None, s.position or 0, s.step))
    return Funnel(journey=journey, entered=entered, running=running, exited=exited, steps=steps)


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 3600.0


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


def _touches(conn: Connection, journey: str, dialect: str) -> dict[str, tuple[dict[str, int], float | None]]:
    """Touches per step and status, with the mean time from enrollment to the touch."""
    since_entry = _seconds(T.created_at, N.enrolled_at, dialect)
    rows = conn.execute(
        select(T.step, T.status, func.count(), func.avg(since_entry))
        .select_from(Touch.__table__.outerjoin(Enrollment.__table__, N.workflow_id == T.workflow_id))  # type: ignore[attr-defined]
        .where(T.journey == journey)
        .group_by(T.step, T.status)
    ).all()
    out: dict[str, tuple[dict[str, int], float | None]] = {}
    weights: dict[str, tuple[float, int]] = {}
    for step, status, n, avg in rows:
        by_status, _ = out.get(step, ({}, None))
        by_status[str(status)] = int(n)
        if avg is not None:
            total, count = weights.get(step, (0.0, 0))
            weights[step] = (total + float(avg) * int(n), count + int(n))
        out[step] = (by_status, None)
    return {
        step: (by_status, (weights[step][0] / weights[step][1] / 86400.0) if step in weights else None)
        for step, (by_status, _) in out.items()
    }


def _engagement(
    conn: Connection, journey: str, dialect: str
) -> dict[str, dict[tuple[str, bool], tuple[int, float | None]]]:
    """Distinct touches with each kind of event, per step, people apart from machines; mean time to the first."""
    first = (
        select(
            T.id.label("touch_id"),
            T.step.label("step"),
            E.kind.label("kind"),
            E.machine.label("machine"),
            func.min(_seconds(E.occurred_at, T.sent_at, dialect)).label("after"),
        )
        .select_from(
            Touch.__table__.join(  # type: ignore[attr-defined]
                Event.__table__,  # type: ignore[attr-defined]
                and_(E.journey == T.journey, E.contact_id == T.contact_id, E.item_id == T.item_id),
            )
        )
        .where(T.journey == journey, E.journey == journey, E.kind.in_(ENGAGEMENT))
        .group_by(T.id, T.step, E.kind, E.machine)
        .subquery()
    )
    rows = conn.execute(
        select(
            first.c.step,
            first.c.kind,
            first.c.machine,
            func.count(),
            func.avg(case((first.c.after >= 0, first.c.after))),
        ).group_by(first.c.step, first.c.kind, first.c.machine)
    ).all()
    out: dict[str, dict[tuple[str, bool], tuple[int, float | None]]] = {}
    for step, kind, machine, n, avg in rows:
        out.setdefault(str(step), {})[(str(kind), bool(machine))] = (int(n), None if avg is None else float(avg))
    return out


def summary(conn: Connection, journey: str) -> Funnel:
    """Entered, running and exits only (one grouped query): the journeys index."""
    entered, running, exited = _enrollments(conn, journey)
    return Funnel(journey=journey, entered=entered, running=running, exited=exited)
