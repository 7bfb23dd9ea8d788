"""What a journey's schedule does when quiet time, a cap or the gap defers one of its scheduled drops.

The journey chooses in `@journey(rhythm=...)`, as it chooses for broadcasts (`broadcast_pushes_schedule`):

- `Rhythm.KEEP` (the default): the journey keeps its rhythm. The late drop goes out when allowed, and the next
  wait after it (a `sleep`, a `wait_for` timeout) is shortened by the deferral, so following drops stay on
  their original schedule. `sleep_until(at)` already names a moment on the schedule and is left as it is.
- `Rhythm.SHIFT`: the whole schedule moves by the deferral. Waits after the late drop run in full, and a
  `sleep_until(at)` until the next drop moves later by the same deferral.

A deferral measured here is only the time a scheduled drop spent held back by the claim (gap, caps, quiet
time, priority), never time spent paused by an operator.
"""

from __future__ import annotations

from enum import StrEnum


class Rhythm(StrEnum):
    KEEP = "keep"  # next drops stay on their original schedule
    SHIFT = "shift"  # the schedule moves by the deferral
