"""Folding new touches and engagement events into the funnel's counters (`nurture.db.funnel`), incrementally.

`refresh` reads only rows newer than the watermarks: new touches add to each step's time-from-entry counters;
new delivered/opened/clicked events become marks (a touch's first event of a kind, people and machines apart)
and each new mark adds one to its step's counter. A page calls it before reading, so it folds what arrived
since the last page, and the read is a few dozen rows at any scale.

Rows younger than `settle` wait for a later refresh: a transaction that took an id earlier may not have
committed yet, and a watermark must never pass a row it has not seen. Two refreshes at once are safe: the
watermark moves by compare-and-set in the same transaction as the counters, and the loser folds nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.engine import Connection

from nurture.db.tables import ENROLLMENT, EVENT, FUNNEL_COUNT, FUNNEL_MARK, FUNNEL_WATERMARK, TOUCH, upsert

ENGAGEMENT = ("delivered", "opened", "clicked")
ENTRY = "entered_to_touch"  # the measure holding each step's time from enrollment to the touch
SETTLE = timedelta(seconds=5)
BATCH = 100_000

T = TOUCH.c
E = EVENT.c
N = ENROLLMENT.c


@dataclass(frozen=True)
class Folded:
    touches: int  # new touches folded in
    marks: int  # new first events folded in


def seconds_between(later: Any, earlier: Any, dialect: str) -> ColumnElement[Any]:
    if dialect == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return func.extract("epoch", later - earlier)


def refresh(conn: Connection, now: datetime, settle: timedelta = SETTLE) -> Folded:
    """Fold everything settled since the last refresh (in batches); the caller commits."""
    touches = marks = 0
    while True:
        got_t = _fold(conn, "touch", now - settle)
        got_e = _fold(conn, "event", now - settle)
        touches, marks = touches + got_t[1], marks + got_e[1]
        if not got_t[0] and not got_e[0]:
            return Folded(touches, marks)


def _claim(conn: Connection, source: str, table: Any, stamp: Any, before: datetime) -> tuple[int, int] | None:
    """Move the watermark over the next settled batch; (from, to] ids, or None when nothing is due."""
    conn.execute(upsert(conn, FUNNEL_WATERMARK).values(source=source, last_id=0).on_conflict_do_nothing())
    last = int(conn.execute(select(FUNNEL_WATERMARK.c.last_id).where(FUNNEL_WATERMARK.c.source == source)).scalar_one())
    window = select(table.c.id).where(table.c.id > last).order_by(table.c.id).limit(BATCH).subquery()
    upto = conn.execute(
        select(func.max(table.c.id)).where(table.c.id.in_(select(window.c.id)), stamp <= before)
    ).scalar_one_or_none()
    if upto is None:
        return None
    moved = conn.execute(
        update(FUNNEL_WATERMARK)
        .where(FUNNEL_WATERMARK.c.source == source, FUNNEL_WATERMARK.c.last_id == last)
        .values(last_id=upto)
    )
    return (last, int(upto)) if moved.rowcount == 1 else None


def _fold(conn: Connection, source: str, before: datetime) -> tuple[bool, int]:
    """One batch of one source; (whether a batch was claimed, rows folded)."""
    dialect = conn.dialect.name
    if source == "touch":
        claimed = _claim(conn, source, TOUCH, T.created_at, before)
        if claimed is None:
            return False, 0
        since = seconds_between(T.created_at, N.enrolled_at, dialect)
        rows = conn.execute(
            select(T.journey, T.step, func.count(), func.count(N.enrolled_at), func.sum(since))
            .select_from(TOUCH.outerjoin(ENROLLMENT, N.workflow_id == T.workflow_id))
            .where(T.id > claimed[0], T.id <= claimed[1])
            .group_by(T.journey, T.step)
        ).all()
        _add(conn, [(j, s, ENTRY, False, int(n), int(timed), float(total or 0.0)) for j, s, n, timed, total in rows])
        return True, sum(int(r[2]) for r in rows)
    claimed = _claim(conn, source, EVENT, E.received_at, before)
    if claimed is None:
        return False, 0
    after = seconds_between(E.occurred_at, T.sent_at, dialect)
    first = (
        select(T.id, E.kind, E.machine, T.journey, T.step, func.min(after))
        .select_from(
            EVENT.join(
                TOUCH,
                and_(T.contact_id == E.contact_id, T.item_id == E.item_id, T.journey == E.journey),
            )
        )
        .where(E.id > claimed[0], E.id <= claimed[1], E.kind.in_(ENGAGEMENT))
        .group_by(T.id, E.kind, E.machine, T.journey, T.step)
    )
    inserted = conn.execute(
        upsert(conn, FUNNEL_MARK)
        .from_select(["touch_id", "kind", "machine", "journey", "step", "seconds"], first)
        .on_conflict_do_nothing()
        .returning(
            FUNNEL_MARK.c.journey, FUNNEL_MARK.c.step, FUNNEL_MARK.c.kind, FUNNEL_MARK.c.machine, FUNNEL_MARK.c.seconds
        )
    ).all()
    sums: dict[tuple[str, str, str, bool], list[float]] = defaultdict(lambda: [0, 0, 0.0])
    for journey, step, kind, machine, secs in inserted:
        acc = sums[(journey, step, kind, bool(machine))]
        acc[0] += 1
        if secs is not None and secs >= 0:
            acc[1] += 1
            acc[2] += float(secs)
    _add(conn, [(*key, int(a[0]), int(a[1]), a[2]) for key, a in sums.items()])
    return True, len(inserted)


def _add(conn: Connection, rows: list[tuple[str, str, str, bool, int, int, float]]) -> None:
    if not rows:
        return
    stmt = upsert(conn, FUNNEL_COUNT)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["journey", "step", "measure", "machine"],
            set_={
                "n": FUNNEL_COUNT.c.n + stmt.excluded.n,
                "timed": FUNNEL_COUNT.c.timed + stmt.excluded.timed,
                "seconds": FUNNEL_COUNT.c.seconds + stmt.excluded.seconds,
            },
        ),
        [
            {"journey": j, "step": s, "measure": m, "machine": mc, "n": n, "timed": timed, "seconds": secs}
            for j, s, m, mc, n, timed, secs in rows
        ],
    )
