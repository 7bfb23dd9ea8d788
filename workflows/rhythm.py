"""The journey's rhythm after a deferred scheduled drop (`dsl.Rhythm`), applied to the waits that follow it.

`Sender.send` records how long the last scheduled drop was held back by the claim (`carry.rhythm_lag_seconds`).
Under `Rhythm.KEEP` the next relative wait is shortened by that much (once); under `Rhythm.SHIFT` every
`sleep_until` until the next drop moves later by it. Journeys started before this existed replay unchanged:
the adjustment is behind `workflow.patched(PATCH_RHYTHM)`, asked only when there is a lag to apply.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows import dsl
    from workflows.payloads import JourneyCarry, JourneyInput
    from workflows.runtime_version import runtime_change

PATCH_RHYTHM = "rhythm-after-deferral"


class RhythmKeeper:
    def __init__(self, inp: JourneyInput, spec: dsl.JourneySpec, carry: JourneyCarry) -> None:
        self._inp = inp
        self._spec = spec
        self._carry = carry

    def _lag(self, rhythm: dsl.Rhythm) -> timedelta:
        lag = self._carry.rhythm_lag_seconds
        if lag <= 0 or self._spec.rhythm is not rhythm or not runtime_change(self._inp, PATCH_RHYTHM, since=3):
            return timedelta(0)
        return timedelta(seconds=lag)

    def cut(self, span: timedelta) -> timedelta:
        """KEEP: how much of a wait of `span` the last deferral already spent (consumed, so it counts once)."""
        cut = max(timedelta(0), min(span, self._lag(dsl.Rhythm.KEEP)))
        self._carry.rhythm_lag_seconds -= cut.total_seconds()
        return cut

    def push(self) -> timedelta:
        """SHIFT: how much later a moment on the schedule now is (every one until the next drop)."""
        return self._lag(dsl.Rhythm.SHIFT)
