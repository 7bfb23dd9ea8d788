"""The console's uplift panel shows the shipped b2b_drip against its holdout and its subject-line arms, with the
same numbers as `comparisons` (what `nurture report uplift` prints), for a click or a lifecycle stage; a journey
that declares neither shows nothing (no invented numbers)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from nurture.clock import utcnow
from nurture.measure.arms import CLICK, comparisons
from nurture.measure.outcomes import StageOutcome
from nurture.measure.panel import WINDOW_DAYS, console_panel
from tests.measure import seeded

pytestmark = pytest.mark.measured  # b2b_drip with its shipped holdout


def test_a_journey_without_a_holdout_or_experiment_shows_no_panel(engine: Engine) -> None:
    with engine.connect() as conn:
        assert console_panel(conn, "b2c_cultivation") == []
        assert console_panel(conn, "no-such-journey") == []


def test_the_panel_shows_the_holdout_and_the_experiment_with_their_intervals(engine: Engine) -> None:
    with engine.begin() as conn:
        seeded.seed(conn, utcnow() - timedelta(days=1))  # enrolled 31 days ago: the 30-day window has passed
    with engine.connect() as conn:
        held, subject = console_panel(conn, seeded.JOURNEY)
        want = comparisons(conn, seeded.JOURNEY, CLICK, WINDOW_DAYS, holdout=True, experiments=seeded.SPEC.experiments)
    assert (held.kind, held.key, subject.kind, subject.key) == ("holdout", "holdout", "experiment", "subject-line")
    assert "10% holdout" in held.name and "b against a" in subject.name
    for entry, u in zip((held, subject), want, strict=True):
        assert entry.verdict == u.verdict
        assert entry.rows[0][:3] == (u.control.name, str(u.control.entered), str(u.control.converted))
        assert entry.rows[1][:3] == (u.treatment.name, str(u.treatment.entered), str(u.treatment.converted))
        assert entry.rows[2][0] == "difference, 95% CI"
        assert entry.rows[2][3].startswith(f"{u.difference * 100:+.1f} pts (")  # type: ignore[operator]
    assert held.verdict.startswith("treated ahead by") and subject.verdict.startswith("b ahead by")


def test_the_panel_reads_a_stage_outcome_too(engine: Engine) -> None:
    with engine.begin() as conn:
        seeded.seed(conn, utcnow() - timedelta(days=1))
    mql = StageOutcome("mql")
    with engine.connect() as conn:
        held, _ = console_panel(conn, seeded.JOURNEY, mql, 14)
        [want, _] = comparisons(conn, seeded.JOURNEY, mql, 14, holdout=True, experiments=seeded.SPEC.experiments)
    assert "reached Marketing qualified within 14 days" in held.name
    assert held.rows[1][2] == str(want.treatment.converted) and held.verdict == want.verdict
