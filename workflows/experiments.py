"""Experiments and holdouts: which arm a contact is in, from the contact id and the experiment key alone.

Pure and deterministic (no clock, no randomness, no I/O): a workflow replaying, a journey continued as new, the
uplift query in `nurture.measure.experiment_uplift` and a report run a year later all compute the same arm. The
contact's position is the first 8 bytes of SHA-256 over "<key>:<contact id>" as a fraction of 2**64; arms own
consecutive slices of [0, 1) in proportion to their weights. Different keys give independent assignments.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

HOLDOUT = "holdout"
TREATED = "treated"


@dataclass(frozen=True)
class Experiment:
    """An experiment: its key, its arms (the first is the control) and their weights (equal when not given)."""

    key: str
    arms: tuple[str, ...]
    weights: tuple[float, ...]

    @classmethod
    def of(cls, key: str, arms: Sequence[str], weights: Sequence[float] | None = None) -> Experiment:
        if not key or ":" in key:
            raise ValueError(f"experiment key {key!r}: non-empty, without ':'")
        if len(arms) < 2 or len(set(arms)) != len(arms):
            raise ValueError(f"experiment {key!r}: at least two distinct arms, got {list(arms)}")
        w = tuple(float(x) for x in (weights if weights is not None else [1.0] * len(arms)))
        if len(w) != len(arms) or any(x < 0 for x in w) or sum(w) <= 0:
            raise ValueError(f"experiment {key!r}: one non-negative weight per arm, not all zero, got {list(w)}")
        return cls(key, tuple(arms), w)

    def arm(self, contact_id: int) -> str:
        point = position(self.key, contact_id) * sum(self.weights)
        edge = 0.0
        for name, weight in zip(self.arms, self.weights, strict=True):
            edge += weight
            if point < edge:
                return name
        return next(a for a, w in zip(reversed(self.arms), reversed(self.weights), strict=True) if w > 0)


def position(key: str, contact_id: int) -> float:
    """The contact's place in [0, 1) for this key."""
    digest = hashlib.sha256(f"{key}:{contact_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def holdout_key(journey: str) -> str:
    return f"holdout/{journey}"


def in_holdout(journey: str, share: float, contact_id: int) -> bool:
    """Whether the journey holds this contact out (enrolled and tracked, sent nothing): `share` of contacts."""
    if not 0.0 <= share < 1.0:
        raise ValueError(f"holdout share of {journey!r} must be in [0, 1), got {share}")
    return position(holdout_key(journey), contact_id) < share


def holdout_arm(journey: str, share: float, contact_id: int) -> str:
    return HOLDOUT if in_holdout(journey, share, contact_id) else TREATED
