"""Uplift from the database on a seeded population (both databases): the journey against its 10% holdout and
subject B against A, counting one conversion per contact within the window, people's clicks only, and only
contacts whose window has passed."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from nurture.clock import utcnow
from nurture.measure.arms import CLICK, Outcome, experiment_uplift, journey_uplift
from nurture.measure.uplift import Call
from tests.measure import seeded
from workflows.experiments import HOLDOUT, TREATED, holdout_arm, in_holdout

NOW = utcnow().replace(microsecond=0)


@pytest.fixture
def population(engine: Engine) -> Engine:
    with engine.begin() as conn:
        seeded.seed(conn, NOW)
    return engine


def test_journey_against_its_holdout(population: Engine) -> None:
    with population.connect() as conn:
        u = journey_uplift(conn, seeded.JOURNEY, CLICK, 14, holdout_share=seeded.HOLDOUT_SHARE, now=NOW)
    want = seeded.expected(lambda c: holdout_arm(seeded.JOURNEY, seeded.HOLDOUT_SHARE, c))
    assert (u.control.name, u.control.entered, u.control.converted) == (HOLDOUT, *want[HOLDOUT])
    assert (u.treatment.name, u.treatment.entered, u.treatment.converted) == (TREATED, *want[TREATED])
    assert u.control.entered + u.treatment.entered == seeded.POPULATION  # yesterday's 100 not yet counted
    assert 0.08 < u.difference < 0.22 and u.low is not None and u.low > 0  # type: ignore[operator]
    assert u.call == Call.AHEAD and u.verdict.startswith("treated ahead by")
    assert u.outcome == "clicked" and u.window_days == 14


def test_subject_b_against_a_among_treated_contacts(population: Engine) -> None:
    with population.connect() as conn:
        u = experiment_uplift(
            conn, seeded.JOURNEY, seeded.SUBJECT, CLICK, 14, holdout_share=seeded.HOLDOUT_SHARE, now=NOW
        )
    want = seeded.expected(
        lambda c: None if in_holdout(seeded.JOURNEY, seeded.HOLDOUT_SHARE, c) else seeded.SUBJECT.arm(c)
    )
    assert (u.control.name, u.control.entered, u.control.converted) == ("a", *want["a"])
    assert (u.treatment.name, u.treatment.entered, u.treatment.converted) == ("b", *want["b"])
    assert u.call == Call.AHEAD and u.verdict.startswith("b ahead by")


def test_a_wider_window_counts_late_clicks_and_another_outcome_counts_nothing(population: Engine) -> None:
    with population.connect() as conn:
        narrow = journey_uplift(conn, seeded.JOURNEY, CLICK, 14, holdout_share=0.1, now=NOW)
        wide = journey_uplift(conn, seeded.JOURNEY, CLICK, 25, holdout_share=0.1, now=NOW)
        goal = journey_uplift(conn, seeded.JOURNEY, Outcome("page_view", "/pricing"), 14, holdout_share=0.1, now=NOW)
    assert wide.treatment.converted > narrow.treatment.converted  # the day-20 clicks
    assert goal.control.converted == goal.treatment.converted == 0
    assert goal.call == Call.NOT_ENOUGH_DATA
