"""The console's uplift panel shows a journey with a holdout against its held-out contacts, with the same
numbers as `journey_uplift`; a journey that declares no holdout shows nothing (no invented numbers)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from nurture.clock import utcnow
from nurture.measure.arms import CLICK, journey_uplift
from nurture.measure.panel import WINDOW_DAYS, console_panel
from tests.measure import seeded
from workflows.dsl import REGISTRY


def test_a_journey_without_a_holdout_shows_no_panel(engine: Engine) -> None:
    with engine.connect() as conn:
        assert console_panel(conn, "b2b_drip") == []
        assert console_panel(conn, "no-such-journey") == []


def test_the_panel_shows_the_holdout_comparison_with_its_interval(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with engine.begin() as conn:
        seeded.seed(conn, utcnow() - timedelta(days=1))  # enrolled 31 days ago: the 30-day window has passed
    spec = dataclasses.replace(REGISTRY[seeded.JOURNEY], holdout=seeded.HOLDOUT_SHARE)
    monkeypatch.setitem(REGISTRY, seeded.JOURNEY, spec)
    with engine.connect() as conn:
        [panel] = console_panel(conn, seeded.JOURNEY)
        want = journey_uplift(conn, seeded.JOURNEY, CLICK, WINDOW_DAYS, holdout_share=seeded.HOLDOUT_SHARE)
    assert "10% holdout" in str(panel["name"])
    assert panel["verdict"] == want.verdict and want.verdict.startswith("treated ahead by")
    rows = panel["rows"]
    assert isinstance(rows, list)
    assert rows[0][:3] == ["holdout", str(want.control.entered), str(want.control.converted)]
    assert rows[1][:3] == ["treated", str(want.treatment.entered), str(want.treatment.converted)]
    assert rows[2][0] == "difference, 95% CI" and "pts" in rows[2][3]
