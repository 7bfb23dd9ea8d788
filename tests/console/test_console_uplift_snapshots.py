"""The journey page's uplift panel comes from the background's snapshot, never from a computation in the request:
a question never asked shows "computing" and is computed by the background (the figures then equal
`comparisons`, what `nurture report uplift` prints), a stale snapshot is still shown while a fresh one is asked
for, and reading never computes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from nurture.clock import utcnow
from nurture.console.background import ConsoleBackground
from nurture.console.journeys import MAX_URL_PREFIX
from nurture.console.uplift_snapshots import MAX_WAITING, Question, default_questions
from nurture.db.tables import UPLIFT_SNAPSHOT
from nurture.measure.arms import CLICK, comparisons
from nurture.measure.outcomes import StageOutcome
from nurture.measure.panel import WINDOW_DAYS, console_panel
from tests.console.conftest import add_console_user, sign_in
from tests.fixtures.api import ServedApi
from tests.measure import seeded

pytestmark = pytest.mark.measured  # b2b_drip with its shipped holdout


def test_a_question_is_computed_by_the_background_and_read_as_of_then(engine: Engine) -> None:
    with engine.begin() as conn:
        seeded.seed(conn, utcnow() - timedelta(days=1))
    background = ConsoleBackground(engine)  # its tasks not running: only what this test calls happens
    asked: list[int] = []
    background.uplift.on_ask = lambda: asked.append(1)
    mql = Question(seeded.JOURNEY, StageOutcome("mql"), 14)

    first = background.uplift.read(mql, utcnow())
    assert first.snapshot is None and first.computing and asked == [1]
    assert background.uplift.read(mql, utcnow()).computing and asked == [1], "asked once, not per GET"
    assert background.uplift.due(utcnow())[0] == mql
    assert Question(seeded.JOURNEY, CLICK, WINDOW_DAYS) in default_questions()

    before = utcnow()
    assert background.uplift_once() >= 2  # the asked question and every default one
    state = background.uplift.read(mql, utcnow())
    assert state.snapshot is not None and not state.computing and state.snapshot.as_of >= before
    with engine.connect() as conn:
        assert list(state.snapshot.entries) == console_panel(conn, seeded.JOURNEY, mql.outcome, 14)
    assert background.uplift.due(utcnow()) == [], "nothing is due until the snapshots age"
    assert background.uplift_once() == 0

    background.uplift.max_age = timedelta(0)
    stale = background.uplift.read(mql, utcnow() + timedelta(seconds=1))
    assert stale.snapshot == state.snapshot and stale.computing, "old figures shown while fresh ones are computed"

    for days in range(1, MAX_WAITING + 2):  # a queue of questions, each seconds of work at scale: bounded
        crowd = background.uplift.read(Question(seeded.JOURNEY, CLICK, days), utcnow())
    assert crowd.busy and not crowd.computing and crowd.snapshot is None
    assert len(background.uplift.due(utcnow())) <= MAX_WAITING + len(default_questions())


@pytest.mark.slow
async def test_the_page_says_computing_then_shows_the_figures_of_comparisons(api: ServedApi, engine: Engine) -> None:
    add_console_user(engine)
    with engine.begin() as conn:
        seeded.seed(conn, utcnow() - timedelta(days=1))
    with engine.connect() as conn:
        held, subject = comparisons(
            conn, seeded.JOURNEY, StageOutcome("mql"), 14, holdout=True, experiments=seeded.SPEC.experiments
        )
    path = f"/console/journeys/{seeded.JOURNEY}?outcome=mql&window=14"
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        assert (await sign_in(http)).status_code == 303
        page = await http.get(path)
        assert page.status_code == 200 and 'id="uplift-computing"' in page.text, "a new question: not in the GET"
        for _ in range(100):  # the background computes it (woken by the GET's ask)
            page = await http.get(path)
            if 'id="uplift-computing"' not in page.text:
                break
            await asyncio.sleep(0.2)
    assert 'id="uplift-as-of"' in page.text
    for u in (held, subject):
        assert u.verdict in page.text
        assert f"<td>{u.treatment.name}</td><td>{u.treatment.entered}</td><td>{u.treatment.converted}</td>" in page.text


async def test_a_question_that_cannot_be_one_is_a_422_and_is_not_stored(api: ServedApi, engine: Engine) -> None:
    add_console_user(engine)
    path = f"/console/journeys/{seeded.JOURNEY}"
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        assert (await sign_in(http)).status_code == 303
        for query in (
            {"outcome": "clicked", "url_prefix": "https://a.example/\x00"},
            {"outcome": "click\ned"},
            {"outcome": "clicked", "url_prefix": "https://a.example/" + "x" * MAX_URL_PREFIX},
            {"outcome": "lost"},
            {"window": "0"},
        ):
            answer = await http.get(path, params=query)
            assert answer.status_code == 422, (query, answer.status_code)
    with engine.connect() as conn:
        stored = set(conn.execute(select(UPLIFT_SNAPSHOT.c.key)).scalars())
    assert stored <= {q.key for q in default_questions()}, "nothing asked, nothing stored (the background's own aside)"
