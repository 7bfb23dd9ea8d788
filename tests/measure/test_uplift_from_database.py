"""Uplift from the database on a seeded population (both databases): the shipped b2b_drip against its 10%
holdout and subject B against A, counting one conversion per contact within the window, people's clicks only,
only contacts whose window has passed, and arms as the touches recorded them (never recomputed)."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, update
from sqlalchemy.engine import Engine

from nurture.clock import utcnow
from nurture.db.tables import TOUCH
from nurture.measure.arms import CLICK, cohort, comparisons, experiment_uplift, holdout_uplift
from nurture.measure.outcomes import EventOutcome, StageOutcome, parse_outcome
from nurture.measure.uplift import Call
from tests.measure import seeded
from workflows.experiments import HOLDOUT, TREATED

pytestmark = pytest.mark.measured  # b2b_drip with its shipped holdout

NOW = utcnow().replace(microsecond=0)


@pytest.fixture
def population(engine: Engine) -> Engine:
    with engine.begin() as conn:
        seeded.seed(conn, NOW)
    return engine


def _members(engine: Engine, outcome: object = CLICK, window: int = 14) -> list:  # type: ignore[type-arg]
    with engine.connect() as conn:
        return cohort(conn, seeded.JOURNEY, outcome, window, [seeded.SUBJECT.key], now=NOW)  # type: ignore[arg-type]


def test_the_shipped_journey_declares_a_ten_percent_holdout_and_the_subject_test() -> None:
    assert seeded.SPEC.holdout == 0.1
    assert [(e.key, e.arms) for e in seeded.SPEC.experiments] == [("subject-line", ("a", "b"))]


def test_journey_against_its_holdout(population: Engine) -> None:
    u = holdout_uplift(_members(population), CLICK, 14)
    want = seeded.expected(seeded.holdout_arm)
    assert (u.control.name, u.control.entered, u.control.converted) == (HOLDOUT, *want[HOLDOUT])
    assert (u.treatment.name, u.treatment.entered, u.treatment.converted) == (TREATED, *want[TREATED])
    assert u.control.entered + u.treatment.entered == seeded.POPULATION  # yesterday's 100 not yet counted
    assert 0.08 < u.difference < 0.22 and u.low is not None and u.low > 0  # type: ignore[operator]
    assert u.call == Call.AHEAD and u.verdict.startswith("treated ahead by")
    assert u.outcome == "clicked" and u.window_days == 14


def test_subject_b_against_a_among_treated_contacts(population: Engine) -> None:
    u = experiment_uplift(_members(population), seeded.SUBJECT, CLICK, 14)
    want = seeded.expected(seeded.subject_arm)
    assert (u.control.name, u.control.entered, u.control.converted) == ("a", *want["a"])
    assert (u.treatment.name, u.treatment.entered, u.treatment.converted) == ("b", *want["b"])
    assert u.call == Call.AHEAD and u.verdict.startswith("b ahead by")


def test_arms_are_what_the_touches_recorded_not_the_hash(population: Engine) -> None:
    """Swap the recorded arm of every treated contact, and drop the touches of some: the counts follow the rows."""
    treated = [i for i in range(1, seeded.POPULATION + 1) if seeded.subject_arm(i) is not None]
    untouched = set(treated[:50])
    with population.begin() as conn:
        for arm in ("a", "b"):  # what a journey would record if its arms had been the other way round
            swapped_ids = [i for i in treated if seeded.SUBJECT.arm(i) == arm]
            other = {seeded.SUBJECT.key: "b" if arm == "a" else "a"}
            conn.execute(update(TOUCH).where(TOUCH.c.contact_id.in_(swapped_ids)).values(variants=other))
        conn.execute(delete(TOUCH).where(TOUCH.c.contact_id.in_(untouched)))
    u = experiment_uplift(_members(population), seeded.SUBJECT, CLICK, 14)
    kept = set(treated) - untouched
    swapped = seeded.expected(lambda i: None if i not in kept else "b" if seeded.SUBJECT.arm(i) == "a" else "a")
    assert (u.control.entered, u.control.converted) == swapped["a"]
    assert (u.treatment.entered, u.treatment.converted) == swapped["b"]
    assert u.call == Call.BEHIND and u.verdict.startswith("b behind by")  # what b's recorded contacts did
    held = holdout_uplift(_members(population), CLICK, 14)
    assert held.control.entered + held.treatment.entered == seeded.POPULATION - len(untouched)


def test_a_lifecycle_stage_is_an_outcome_from_the_stage_history(population: Engine) -> None:
    mql = StageOutcome("mql")
    members = _members(population, mql)
    u = holdout_uplift(members, mql, 14)
    want = seeded.expected(seeded.holdout_arm, seeded.qualifies)  # mql or customer within 4 days
    assert (u.control.entered, u.control.converted) == want[HOLDOUT]
    assert (u.treatment.entered, u.treatment.converted) == want[TREATED]
    assert u.outcome == "reached Marketing qualified" and u.call == Call.AHEAD
    customer = StageOutcome("customer")
    bought = holdout_uplift(_members(population, customer), customer, 14)
    every_third = seeded.expected(seeded.holdout_arm, lambda i: seeded.qualifies(i) and i % 3 == 0)
    assert (bought.treatment.entered, bought.treatment.converted) == every_third[TREATED]
    wide = holdout_uplift(_members(population, mql, 25), mql, 25)
    assert wide.treatment.converted > u.treatment.converted  # the day-20 moves


def test_outcome_words_name_stages_or_event_kinds() -> None:
    assert parse_outcome("mql") == StageOutcome("mql")
    assert parse_outcome("accepted") == StageOutcome("sal") == parse_outcome("SAL")
    assert parse_outcome("customer") == StageOutcome("customer")
    assert parse_outcome("clicked") == CLICK
    assert parse_outcome("page_view", "/pricing") == EventOutcome("page_view", "/pricing")
    for bad in ("", "stage:nope", "recycled"):
        with pytest.raises(ValueError, match=r"outcome|lifecycle line"):
            parse_outcome(bad)
    with pytest.raises(ValueError, match="URL prefix"):
        parse_outcome("mql", "/pricing")


def test_a_wider_window_counts_late_clicks_and_another_outcome_counts_nothing(population: Engine) -> None:
    narrow = holdout_uplift(_members(population), CLICK, 14)
    wide = holdout_uplift(_members(population, CLICK, 25), CLICK, 25)
    goal_outcome = EventOutcome("page_view", "/pricing")
    goal = holdout_uplift(_members(population, goal_outcome), goal_outcome, 14)
    assert wide.treatment.converted > narrow.treatment.converted  # the day-20 clicks
    assert goal.control.converted == goal.treatment.converted == 0
    assert goal.call == Call.NOT_ENOUGH_DATA


def test_comparisons_read_once_and_list_the_holdout_then_each_arm(population: Engine) -> None:
    with population.connect() as conn:
        found = comparisons(conn, seeded.JOURNEY, CLICK, 14, holdout=True, experiments=seeded.SPEC.experiments, now=NOW)
    members = _members(population)
    assert found == [holdout_uplift(members, CLICK, 14), experiment_uplift(members, seeded.SUBJECT, CLICK, 14)]
