"""Experiment and holdout assignment: the same arm every time for a contact and key, shares that follow the
weights, independent keys, and refusals of experiments that cannot be run."""

from __future__ import annotations

from collections import Counter

import pytest

from workflows.experiments import HOLDOUT, Experiment, holdout_arm, in_holdout, position


def test_an_assignment_never_changes_for_a_contact_and_key() -> None:
    e = Experiment.of("subject-line", ["a", "b"])
    first = [e.arm(c) for c in range(1, 2001)]
    again = [Experiment.of("subject-line", ["a", "b"]).arm(c) for c in range(1, 2001)]
    assert first == again
    assert position("subject-line", 42) == position("subject-line", 42)
    assert e.arm(42) == "b"  # pinned: a change of hash would move every live contact to another arm


def test_arms_get_their_weighted_share() -> None:
    e = Experiment.of("cta", ["control", "short", "long"], weights=[2, 1, 1])
    counts = Counter(e.arm(c) for c in range(20_000))
    assert abs(counts["control"] / 20_000 - 0.5) < 0.015
    assert abs(counts["short"] / 20_000 - 0.25) < 0.015
    assert abs(counts["long"] / 20_000 - 0.25) < 0.015
    off = Experiment.of("cta-off", ["a", "b"], weights=[1, 0])
    assert {off.arm(c) for c in range(1000)} == {"a"}


def test_holdout_takes_its_share_independently_of_experiments() -> None:
    held = [c for c in range(20_000) if in_holdout("b2b_drip", 0.1, c)]
    assert abs(len(held) / 20_000 - 0.1) < 0.01
    assert holdout_arm("b2b_drip", 0.1, held[0]) == HOLDOUT
    arms = Counter(Experiment.of("subject-line", ["a", "b"]).arm(c) for c in held)
    assert abs(arms["a"] / len(held) - 0.5) < 0.05  # the holdout is not skewed towards one arm
    assert not any(in_holdout("b2b_drip", 0.0, c) for c in range(1000))
    other = {c for c in range(20_000) if in_holdout("b2c_cultivation", 0.1, c)}
    assert len(other & set(held)) < 0.02 * 20_000  # each journey holds out its own contacts


@pytest.mark.parametrize(
    ("key", "arms", "weights"),
    [
        ("", ["a", "b"], None),
        ("x:y", ["a", "b"], None),
        ("k", ["a"], None),
        ("k", ["a", "a"], None),
        ("k", ["a", "b"], [1]),
        ("k", ["a", "b"], [0, 0]),
        ("k", ["a", "b"], [-1, 2]),
    ],
)
def test_experiments_that_cannot_run_are_refused(key: str, arms: list[str], weights: list[float] | None) -> None:
    with pytest.raises(ValueError, match="experiment"):
        Experiment.of(key, arms, weights)


def test_a_holdout_share_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="holdout share"):
        in_holdout("b2b_drip", 1.0, 1)
