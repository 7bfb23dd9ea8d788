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
from nurture.console.background import ConsoleBackground
from nurture.console.uplift_snapshots import Question, default_questions
from nurture.db.tables import UPLIFT_SNAPSHOT
from nurture.measure.outcomes import StageOutcome
from nurture.measure.panel import console_panel
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


def test_a_claim_held_by_a_process_that_died_lets_go_when_it_expires(engine: Engine) -> None:
    dead, alive = ConsoleBackground(engine), ConsoleBackground(engine)
    now = utcnow()
    dead.uplift.read(MQL, now)
    assert dead.uplift.claim(MQL, now), "the first process takes the question"
    assert not alive.uplift.claim(MQL, now), "a held question cannot be taken twice"
    assert MQL not in alive.uplift.due(now), "a question another process holds is not due here"

    later = now + dead.uplift.claim_for + timedelta(seconds=1)
    assert MQL in alive.uplift.due(later), "the holder died: its claim ran out"
    assert alive.uplift.claim(MQL, later)
    assert alive.uplift.read(MQL, later).computing, "the page still says computing meanwhile"


def test_a_failed_computation_lets_the_question_go_and_the_next_page_asks_again(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    bg = ConsoleBackground(engine)
    bg.uplift.read(MQL, utcnow())

    def broken(*_: Any) -> Any:
        raise RuntimeError("the database went away mid-computation")

    monkeypatch.setattr(background_module, "console_panel", broken)
    with pytest.raises(RuntimeError):
        bg.uplift_once()
    with engine.connect() as conn:
        row = conn.execute(select(UPLIFT_SNAPSHOT).where(UPLIFT_SNAPSHOT.c.key == MQL.key)).one()
    assert row.asked_at is None and row.claimed_until is None and row.entries is None
    again = bg.uplift.read(MQL, utcnow())
    assert again.computing and again.snapshot is None, "asked again, not stuck as computing forever"
