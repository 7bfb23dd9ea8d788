"""Uplift intervals match the published worked examples of Newcombe (1998), Table II, method 10 (hybrid score,
no continuity correction), to the four decimals printed there; the verdict says only what the interval allows."""

from __future__ import annotations

import pytest

from nurture.measure.uplift import Arm, Call, compare

pytestmark = pytest.mark.measured  # b2b_drip with its shipped holdout

# (treatment converted, entered, control converted, entered) -> (lower, upper), Newcombe 1998, Table II, method 10.
NEWCOMBE_1998_METHOD_10 = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.0582, 0.8062)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
]


@pytest.mark.parametrize(("counts", "published"), NEWCOMBE_1998_METHOD_10)
def test_interval_matches_newcombes_table(counts: tuple[int, int, int, int], published: tuple[float, float]) -> None:
    t_conv, t_n, c_conv, c_n = counts
    result = compare(Arm("control", c_n, c_conv), Arm("b", t_n, t_conv), outcome="mql", min_per_arm=1)
    assert result.low is not None and result.high is not None
    assert (round(result.low, 4), round(result.high, 4)) == published
    assert result.difference == pytest.approx(t_conv / t_n - c_conv / c_n)


def test_a_clear_lead_is_named_with_its_interval() -> None:
    result = compare(Arm("holdout", 2000, 100), Arm("journey", 2000, 160), outcome="customer", window_days=90)
    assert result.call is Call.AHEAD
    assert result.low is not None and result.low > 0
    assert result.verdict.startswith("journey ahead by 3.0 points, 95% CI ")
    assert result.window_days == 90


def test_a_lag_is_called_behind() -> None:
    result = compare(Arm("a", 2000, 160), Arm("b", 2000, 100), outcome="click")
    assert result.call is Call.BEHIND
    assert result.verdict.startswith("b behind by 3.0 points")


def test_an_interval_across_zero_names_no_winner() -> None:
    result = compare(Arm("a", 500, 50), Arm("b", 500, 55), outcome="mql")
    assert result.call is Call.NO_CLEAR_DIFFERENCE
    assert result.low is not None and result.high is not None and result.low < 0 < result.high
    assert "no clear difference: b +1.0 points against a" in result.verdict


def test_thin_data_is_not_enough_even_when_the_interval_excludes_zero() -> None:
    result = compare(Arm("a", 10, 0), Arm("b", 10, 10), outcome="mql")
    assert result.low is not None and result.low > 0  # the interval alone would call it
    assert result.call is Call.NOT_ENOUGH_DATA
    assert result.verdict.startswith("not enough data yet: 10 and 10 contacts")


def test_an_empty_arm_has_no_interval() -> None:
    result = compare(Arm("a", 0, 0), Arm("b", 300, 30), outcome="mql")
    assert result.difference is None and result.low is None
    assert result.call is Call.NOT_ENOUGH_DATA


def test_impossible_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="converted"):
        Arm("a", 5, 6)
