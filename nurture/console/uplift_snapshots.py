"""The journey page's uplift panel as of its last computation in the background, never per request.

At scale the panel (`nurture.measure.panel.console_panel`, over `nurture.measure.arms.comparisons`: two index
probes per enrollment) takes seconds, so a GET only reads this in-process store:
- a question (journey, outcome, window) computed before is served with its "as of" time; once it is older than
  `max_age` the GET asks for it again (in memory, not in the database) and still shows the old figures;
- a question never computed is asked for, and the page says "computing" and reloads until the figures are in.

The background (`nurture.console.background.ConsoleBackground.run_uplift`) computes what was asked, plus every
journey's default question (clicks within 30 days) so the plain page is ready on its first open. `put` is the
store's one writer, called only from there. The figures are `comparisons`' own, as `nurture report uplift`
prints them, as of `as_of`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from nurture.measure.outcomes import CLICK, Outcome
from nurture.measure.panel import WINDOW_DAYS, PanelEntry
from workflows.dsl import REGISTRY

MAX_AGE = timedelta(minutes=5)  # older than this, a GET asks for fresh figures (and shows the old ones meanwhile)
MAX_QUESTIONS = 200  # custom questions kept; the least recently computed go first
MAX_WAITING = 20  # questions waiting to be computed (each takes seconds at scale); more are turned away


@dataclass(frozen=True)
class Question:
    journey: str
    outcome: Outcome
    window_days: int


@dataclass(frozen=True)
class Snapshot:
    """The panel's entries for one question, computed at `as_of`."""

    question: Question
    entries: tuple[PanelEntry, ...]
    as_of: datetime


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
    """Snapshots by question, and the questions asked for since; safe across the request and worker threads."""

    def __init__(self, max_age: timedelta = MAX_AGE) -> None:
        self.max_age = max_age
        self._lock = threading.Lock()
        self._snapshots: dict[Question, Snapshot] = {}
        self._wanted: dict[Question, None] = {}  # insertion ordered: asked first, computed first
        self.on_ask: Callable[[], None] = lambda: None  # the background's wake-up

    def read(self, question: Question, now: datetime) -> PanelState:
        """The page's view of `question`; asks for it when it is missing or older than `max_age`."""
        with self._lock:
            snapshot = self._snapshots.get(question)
            stale = snapshot is None or now - snapshot.as_of > self.max_age
            asked = busy = False
            if stale and question not in self._wanted:
                busy = len(self._wanted) >= MAX_WAITING
                if not busy:
                    self._wanted[question] = None
                    asked = True
            computing = question in self._wanted
        if asked:
            self.on_ask()
        return PanelState(snapshot, computing, busy=busy and snapshot is None)

    def due(self, now: datetime) -> list[Question]:
        """What to compute next: the questions asked for, then the defaults not computed within `max_age`."""
        with self._lock:
            out = list(self._wanted)
            for q in default_questions():
                current = self._snapshots.get(q)
                if q not in self._wanted and (current is None or now - current.as_of > self.max_age):
                    out.append(q)
            return out

    def put(self, snapshot: Snapshot) -> None:
        """Store a computed snapshot (the one writer: `ConsoleBackground.uplift_once`)."""
        with self._lock:
            self._snapshots.pop(snapshot.question, None)
            self._snapshots[snapshot.question] = snapshot
            self._wanted.pop(snapshot.question, None)
            defaults = set(default_questions())
            custom = [q for q in self._snapshots if q not in defaults]
            for q in custom[: max(0, len(custom) - MAX_QUESTIONS)]:
                del self._snapshots[q]

    def forget(self, question: Question) -> None:
        """Drop a question whose computation failed, so that the next GET asks again."""
        with self._lock:
            self._wanted.pop(question, None)
