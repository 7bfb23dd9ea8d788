"""Several API processes on one database share the uplift panel: a question one asks, another may compute, each
question is computed by one process at a time (its claim), and every process shows the same figures as of the
same time. Two `ConsoleBackground`s on one engine stand for two API processes (each has its own store, as a
process would; only the database is shared)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from nurture.clock import utcnow
from nurture.console import background as background_module
from nurture.console import uplift_snapshots as snapshots
from nurture.console.background import ConsoleBackground
from nurture.console.uplift_snapshots import MAX_WAITING, Question, default_questions
from nurture.db.tables import UPLIFT_SNAPSHOT
from nurture.measure.outcomes import CLICK, StageOutcome
from nurture.measure.panel import WINDOW_DAYS, console_panel
from tests.measure import seeded

pytestmark = pytest.mark.measured  # b2b_drip with its shipped holdout

MQL = Question(seeded.JOURNEY, StageOutcome("mql"), 14)


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> Counter[Question]:
    """Every computation the backgrounds run, by question; each takes a while, as at scale."""
    counts: Counter[Question] = Counter()
    lock = threading.Lock()

    def slow_panel(conn: Any, journey: str, outcome: Any, window_days: int) -> Any:
        with lock:
            counts[Question(journey, outcome, window_days)] += 1
        time.sleep(0.3)  # both processes are inside their rounds at once
        return console_panel(conn, journey, outcome, window_days)

    monkeypatch.setattr(background_module, "console_panel", slow_panel)
    return counts


def test_a_question_asked_in_one_process_is_computed_once_and_read_alike_in_both(
    engine: Engine, computed: Counter[Question]
) -> None:
    with engine.begin() as conn:
        seeded.seed(conn, utcnow() - timedelta(days=1))
    first, second = ConsoleBackground(engine), ConsoleBackground(engine)

    asked = first.uplift.read(MQL, utcnow())
    assert asked.snapshot is None and asked.computing
    assert second.uplift.read(MQL, utcnow()).computing, "the other process sees the question waiting"
    assert MQL in second.uplift.due(utcnow()), "and may compute it"

    rounds = [threading.Thread(target=b.uplift_once) for b in (first, second)]
    for t in rounds:
        t.start()
    for t in rounds:
        t.join()
    wanted = {MQL, *default_questions()}
    assert set(computed) == wanted
    assert all(n == 1 for n in computed.values()), f"each question computed once by the two processes: {computed}"

    here, there = first.uplift.read(MQL, utcnow()), second.uplift.read(MQL, utcnow())
    assert here.snapshot is not None and not here.computing and not there.computing
    assert here.snapshot == there.snapshot, "the same figures, as of the same time, in both processes"
    with engine.connect() as conn:
        assert list(here.snapshot.entries) == console_panel(conn, seeded.JOURNEY, MQL.outcome, 14)
    assert first.uplift_once() == second.uplift_once() == 0, "nothing due until the snapshots age"


def test_a_claim_held_by_a_process_that_died_lets_go_when_it_expires_and_its_late_result_is_refused(
    engine: Engine,
) -> None:
    dead, alive = ConsoleBackground(engine), ConsoleBackground(engine)
    now = utcnow()
    dead.uplift.read(MQL, now)
    stalled = dead.uplift.claim(MQL, now)
    assert stalled is not None, "the first process takes the question"
    assert alive.uplift.claim(MQL, now) is None, "a held question cannot be taken twice"
    assert MQL not in alive.uplift.due(now), "a question another process holds is not due here"

    later = now + dead.uplift.claim_for + timedelta(seconds=1)
    assert MQL in alive.uplift.due(later), "the holder stalled past its claim: it ran out"
    taken = alive.uplift.claim(MQL, later)
    assert taken is not None and alive.uplift.read(MQL, later).computing, "the page still says computing meanwhile"
    with engine.begin() as conn:
        fresh = console_panel(conn, seeded.JOURNEY, MQL.outcome, 14)
    assert alive.uplift.put(taken, fresh, later)
    assert not dead.uplift.put(stalled, [], now), "the stalled holder's older figures do not overwrite newer ones"
    shown = alive.uplift.read(MQL, later)
    assert shown.snapshot is not None and shown.snapshot.as_of == later


def test_a_failed_question_is_let_go_and_does_not_hold_up_the_others(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with engine.begin() as conn:
        seeded.seed(conn, utcnow() - timedelta(days=1))
    bg = ConsoleBackground(engine)
    bg.uplift.read(MQL, utcnow())  # asked: computed before the defaults

    def broken_for_mql(conn: Any, journey: str, outcome: Any, window_days: int) -> Any:
        if outcome == MQL.outcome:
            raise RuntimeError("the database went away mid-computation")
        return console_panel(conn, journey, outcome, window_days)

    monkeypatch.setattr(background_module, "console_panel", broken_for_mql)
    assert bg.uplift_once() == len(default_questions()), "the defaults are computed all the same"
    with engine.connect() as conn:
        row = conn.execute(select(UPLIFT_SNAPSHOT).where(UPLIFT_SNAPSHOT.c.key == MQL.key)).first()
    assert row is None, "a question never computed is not kept: nothing to show"
    again = bg.uplift.read(MQL, utcnow())
    assert again.computing and again.snapshot is None, "asked again, not stuck as computing forever"
    assert all(bg.uplift.read(q, utcnow()).snapshot is not None for q in default_questions())


def test_old_custom_questions_are_pruned_but_waiting_ones_are_kept(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshots, "MAX_QUESTIONS", 3)
    bg = ConsoleBackground(engine)
    for days in range(1, 7):
        bg.uplift.read(Question(seeded.JOURNEY, CLICK, days), utcnow())
        bg.uplift_once()
    waiting = Question(seeded.JOURNEY, CLICK, 99)
    bg.uplift.read(waiting, utcnow())
    custom = Question(seeded.JOURNEY, CLICK, 7)
    bg.uplift.read(custom, utcnow())
    claim = bg.uplift.claim(custom, utcnow())
    assert claim is not None and bg.uplift.put(claim, [], utcnow())  # a put prunes
    with engine.connect() as conn:
        rows = {r.window_days: r for r in conn.execute(select(UPLIFT_SNAPSHOT)).all()}
    kept = sorted(d for d, r in rows.items() if r.as_of is not None and d != WINDOW_DAYS)
    assert kept == [5, 6, 7], "the three most recently computed custom questions"
    assert rows[99].asked_at is not None, "a question still waiting is not pruned"
    assert WINDOW_DAYS in rows, "the default question stays"


def test_the_waiting_cap_holds_across_concurrent_asks(engine: Engine) -> None:
    bgs = [ConsoleBackground(engine) for _ in range(3)]  # three processes' stores
    crowd = 3 * MAX_WAITING
    start = threading.Barrier(crowd)
    answers: list[bool] = []

    def ask(n: int) -> None:
        start.wait()
        state = bgs[n % 3].uplift.read(Question(seeded.JOURNEY, CLICK, n + 1), utcnow())
        answers.append(state.computing)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(crowd)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with engine.connect() as conn:
        waiting = conn.execute(select(UPLIFT_SNAPSHOT).where(UPLIFT_SNAPSHOT.c.asked_at.is_not(None))).all()
    assert len(waiting) == MAX_WAITING == sum(answers), "as many wait as were told so, and no more than the cap"
