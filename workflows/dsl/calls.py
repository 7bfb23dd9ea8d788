"""What a call task returns to a storyboard: how the phone call a journey asked for went."""

from __future__ import annotations

from enum import StrEnum


class CallOutcome(StrEnum):
    """A rep's answer (`POST /tasks/{id}/outcome`, `nurture tasks outcome`), or no answer within the timeout."""

    REACHED_INTERESTED = "reached_interested"
    REACHED_NOT_NOW = "reached_not_now"
    NO_ANSWER = "no_answer"  # the rep called; nobody picked up
    TIMED_OUT = "timed_out"  # no outcome recorded in time

    @property
    def interested(self) -> bool:
        return self is CallOutcome.REACHED_INTERESTED


# Outcomes a person may record (timed_out is the journey's own).
RECORDABLE = (CallOutcome.REACHED_INTERESTED, CallOutcome.REACHED_NOT_NOW, CallOutcome.NO_ANSWER)
