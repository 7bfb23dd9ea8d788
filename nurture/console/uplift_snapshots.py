"""The journey page's uplift panel as of its last computation in the background, never per request, and the same
in every API process.

At scale the panel (`nurture.measure.panel.console_panel`, over `nurture.measure.arms.comparisons`: two index
probes per enrollment) takes seconds, so a GET only reads the `uplift_snapshot` row of its question:
- a question (journey, outcome, window) computed before is served with its "as of" time; once it is older than
  `max_age` the GET asks for it again (it stamps the row's `asked_at`) and still shows the old figures;
- a question never computed is asked for, and the page says "computing" and reloads until the figures are in.

The backgrounds (`nurture.console.background.ConsoleBackground.run_uplift`, one per API process) compute what was
asked, plus every journey's default question (clicks within 30 days) so the plain page is ready on its first
open. Each question is computed by one process at a time: `claim` takes it for `claim_for` by compare-and-set on
`claimed_until` (a process that dies holding it lets go when that passes), so N API processes do one
computation, not N, and all of them show the same figures as of the same time. This module is the table's one
writer: the ask, the claim, the result (`put`), a failed computation let go (`forget`) and the pruning of old
custom questions. The figures are `comparisons`' own, as `nurture report uplift` prints them, as of `as_of`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import ColumnElement, delete, func, or_, select, text, update
from sqlalchemy.engine import Engine

from nurture.db.tables import UPLIFT_SNAPSHOT, upsert
from nurture.measure.outcomes import CLICK, EventOutcome, Outcome, StageOutcome
from nurture.measure.panel import WINDOW_DAYS, PanelEntry
from workflows.dsl import REGISTRY

MAX_AGE = timedelta(minutes=5)  # older than this, a GET asks for fresh figures (and shows the old ones meanwhile)
CLAIM_FOR = timedelta(minutes=2)  # a computation's hold on its question (seconds of work at 50k enrollments)
MAX_QUESTIONS = 200  # custom questions kept; the least recently computed go first
MAX_WAITING = 20  # questions waiting to be computed (each takes seconds at scale); more are turned away
ASK_LOCK = 7_340_002  # pg_advisory_xact_lock key serialising asks, so that MAX_WAITING holds across processes

U = UPLIFT_SNAPSHOT.c
log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Question:
    journey: str
    outcome: Outcome
    window_days: int

    @property
    def key(self) -> str:
        """The row's key: the same question gives the same key in every process."""
        text = json.dumps([self.journey, _outcome_json(self.outcome), self.window_days], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Snapshot:
    """The panel's entries for one question, computed at `as_of`."""

    question: Question
    entries: tuple[PanelEntry, ...]
    as_of: datetime


@dataclass(frozen=True)
class Claim:
    """One process's hold on a question while it computes it, until `until` (also the hold's token)."""

    question: Question
    until: datetime


@dataclass(frozen=True)
class PanelState:
    """What the page shows: the latest snapshot (None: not computed yet) and whether a computation is pending."""

    snapshot: Snapshot | None
    computing: bool
    busy: bool = False  # not asked: too many questions already wait (the page says to try again shortly)


def default_questions() -> list[Question]:
    """Each registered journey's default question, for the journeys that declare something to compare."""
    return [
        Question(name, CLICK, WINDOW_DAYS)
        for name, spec in sorted(REGISTRY.items())
        if spec.holdout > 0 or spec.experiments
    ]


class UpliftSnapshots:
    """The `uplift_snapshot` table's reads and its one writer; safe from any thread and any process."""

    def __init__(self, engine: Engine, max_age: timedelta = MAX_AGE, claim_for: timedelta = CLAIM_FOR) -> None:
        self._engine = engine
        self.max_age = max_age
        self.claim_for = claim_for
        self.on_ask: Callable[[], None] = lambda: None  # this process's background's wake-up

    def read(self, question: Question, now: datetime) -> PanelState:
        """The page's view of `question`; asks for it when it is missing or older than `max_age`."""
        with self._engine.connect() as conn:
            row = conn.execute(select(U.entries, U.as_of, U.asked_at).where(U.key == question.key)).first()
        snapshot = _snapshot(question, row)
        fresh = snapshot is not None and now - snapshot.as_of <= self.max_age
        if fresh or (row is not None and row.asked_at is not None):
            return PanelState(snapshot, computing=not fresh)
        asked = self._ask(question, now)
        if asked:
            self.on_ask()
        return PanelState(snapshot, computing=asked, busy=not asked and snapshot is None)

    def _ask(self, question: Question, now: datetime) -> bool:
        """Stamp the question asked, unless `MAX_WAITING` already wait. The asks are serialised (PostgreSQL: a
        transaction advisory lock; SQLite: its one writer, taken by the write that comes first), so that the count
        sees every ask before it and the cap holds across processes."""
        with self._engine.connect() as conn, conn.begin() as transaction:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ASK_LOCK})
            stmt = upsert(conn, UPLIFT_SNAPSHOT).values(**_identity(question), asked_at=now)
            conn.execute(
                stmt.on_conflict_do_update(index_elements=["key"], set_={"asked_at": now}, where=U.asked_at.is_(None))
            )
            if conn.execute(select(func.count()).where(U.asked_at.is_not(None))).scalar_one() > MAX_WAITING:
                transaction.rollback()
                return False
        return True

    def due(self, now: datetime) -> list[Question]:
        """What to compute next and nobody holds: the questions asked for (first asked, first), then the defaults
        not computed within `max_age`."""
        defaults = {q.key: q for q in default_questions()}
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(U.key, U.journey, U.outcome, U.window_days, U.as_of, U.asked_at, U.claimed_until)
                .where(or_(U.asked_at.is_not(None), U.key.in_(list(defaults))))
                .order_by(U.asked_at.is_(None), U.asked_at)
            ).all()
        asked, unreadable = _asked(r for r in rows if r.asked_at is not None)
        if unreadable:
            self._drop(unreadable)
        out = [q for row, q in asked if _free(row, now)]
        seen = {r.key: r for r in rows}
        for key, q in defaults.items():
            row = seen.get(key)
            if row is None or (row.asked_at is None and _free(row, now) and self._stale(row.as_of, now)):
                out.append(q)
        return out

    def claim(self, question: Question, now: datetime) -> Claim | None:
        """Take `question` for one computation, if it is still due and nobody holds it (compare-and-set); the
        claim's `until` is its token: only its holder can `put` or `forget` through it."""
        until = now + self.claim_for
        with self._engine.begin() as conn:
            conn.execute(upsert(conn, UPLIFT_SNAPSHOT).values(**_identity(question)).on_conflict_do_nothing())
            taken = conn.execute(
                update(UPLIFT_SNAPSHOT)
                .where(U.key == question.key)
                .where(_unheld(now))
                .where(or_(U.asked_at.is_not(None), U.as_of.is_(None), U.as_of < now - self.max_age))
                .values(claimed_until=until)
            )
        return Claim(question, until) if taken.rowcount == 1 else None

    def put(self, claim: Claim, entries: Iterable[PanelEntry], as_of: datetime) -> bool:
        """Store what `claim`'s holder computed as of `as_of`, if it still holds it (a holder that ran past its
        claim, which another process then took, does not write over the newer figures); whether it was stored.
        Then drop what is no longer wanted: custom questions past `MAX_QUESTIONS` (the least recently computed
        first), and questions never computed that nobody asks for or holds."""
        rows = [asdict(e) for e in entries]
        defaults = [q.key for q in default_questions()]
        with self._engine.begin() as conn:
            stored = conn.execute(
                update(UPLIFT_SNAPSHOT)
                .where(U.key == claim.question.key, U.claimed_until == claim.until)
                .values(entries=rows, as_of=as_of, asked_at=None, claimed_until=None)
            )
            old = (
                select(U.key)
                .where(U.key.not_in(defaults), U.as_of.is_not(None), U.asked_at.is_(None))
                .order_by(U.as_of.desc(), U.key)
                .offset(MAX_QUESTIONS)
            )
            conn.execute(delete(UPLIFT_SNAPSHOT).where(U.key.in_(old)))
            conn.execute(
                delete(UPLIFT_SNAPSHOT).where(
                    U.key.not_in(defaults), U.as_of.is_(None), U.asked_at.is_(None), _unheld(as_of)
                )
            )
        return stored.rowcount == 1

    def forget(self, claim: Claim) -> None:
        """Let go of a question whose computation failed, so that the next GET asks again: a question never
        computed is deleted (nothing to show, nothing kept), one computed before keeps its last figures."""
        mine = (U.key == claim.question.key, U.claimed_until == claim.until)
        with self._engine.begin() as conn:
            conn.execute(delete(UPLIFT_SNAPSHOT).where(*mine, U.as_of.is_(None)))
            conn.execute(update(UPLIFT_SNAPSHOT).where(*mine).values(asked_at=None, claimed_until=None))

    def _drop(self, keys: list[str]) -> None:
        log.warning("console.uplift_questions_dropped", count=len(keys))
        with self._engine.begin() as conn:
            conn.execute(delete(UPLIFT_SNAPSHOT).where(U.key.in_(keys)))

    def _stale(self, as_of: datetime | None, now: datetime) -> bool:
        return as_of is None or now - as_of > self.max_age


def _identity(question: Question) -> dict[str, Any]:
    return {
        "key": question.key,
        "journey": question.journey,
        "outcome": _outcome_json(question.outcome),
        "window_days": question.window_days,
    }


def _asked(rows: Iterable[Any]) -> tuple[list[tuple[Any, Question]], list[str]]:
    """The asked rows with their questions, and the keys of rows no longer a question (a stage taken off the
    lifecycle line since it was asked)."""
    out, unreadable = [], []
    for r in rows:
        try:
            out.append((r, Question(r.journey, _outcome_of(r.outcome), r.window_days)))
        except (KeyError, TypeError, ValueError):
            unreadable.append(r.key)
    return out, unreadable


def _free(row: Any, now: datetime) -> bool:
    """A read row nobody holds at `now` (`_unheld` in SQL)."""
    return row.claimed_until is None or row.claimed_until <= now


def _unheld(now: datetime) -> ColumnElement[bool]:
    """No process holds the question at `now` (its claim ran out, or there is none)."""
    return or_(U.claimed_until.is_(None), U.claimed_until <= now)


def _snapshot(question: Question, row: Any) -> Snapshot | None:
    if row is None or row.entries is None or row.as_of is None:
        return None
    entries = tuple(
        PanelEntry(
            kind=e["kind"],
            key=e["key"],
            name=e["name"],
            verdict=e["verdict"],
            method=e["method"],
            headers=tuple(e["headers"]),
            rows=tuple(tuple(r) for r in e["rows"]),
        )
        for e in row.entries
    )
    return Snapshot(question, entries, row.as_of)


def _outcome_json(outcome: Outcome) -> dict[str, Any]:
    if isinstance(outcome, StageOutcome):
        return {"stage": outcome.stage}
    return {"event": outcome.kind, "url_prefix": outcome.url_prefix}


def _outcome_of(raw: dict[str, Any]) -> Outcome:
    if "stage" in raw:
        return StageOutcome(str(raw["stage"]))
    prefix = raw.get("url_prefix")
    return EventOutcome(str(raw["event"]), None if prefix is None else str(prefix))
