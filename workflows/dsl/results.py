"""What the journey's primitives answer: typed results a storyboard branches on, never strings or a bare None."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum


class DropOutcome(Enum):
    SENT = "sent"  # handed to the provider (or accepted with an unconfirmed outcome: it is never sent twice)
    EXHAUSTED = "exhausted"  # nothing left to send for this persona, stage and topic
    REFUSED = "refused"  # the provider refused this item; the journey moves on to the next one
    ALREADY_SENT = "already_sent"  # the contact has this item already (from this or another journey)
    DEFERRED = "deferred"  # the minimum gap between drops holds it back until `until` (only with wait_out_gap=False)


@dataclass(frozen=True)
class DropResult:
    """What `j.drop()` did."""

    outcome: DropOutcome
    item_id: str | None = None
    detail: str = ""
    until: datetime | None = None  # for DEFERRED: when the gap allows a drop

    @property
    def sent(self) -> bool:
        return self.outcome is DropOutcome.SENT

    @property
    def exhausted(self) -> bool:
        return self.outcome is DropOutcome.EXHAUSTED


class Verdict(Enum):
    ACCEPTED = "accepted"  # sales took the lead: the contact is a customer (phase "customer")
    REJECTED = "rejected"  # sales said no, with a reason
    NO_ANSWER = "no_answer"  # no feedback within the journey's sales_feedback_timeout


@dataclass(frozen=True)
class SalesAnswer:
    """What `j.hand_off()` heard back. The storyboard decides what happens next (end, cool down, carry on)."""

    verdict: Verdict
    reason: str = ""

    @property
    def accepted(self) -> bool:
        return self.verdict is Verdict.ACCEPTED

    @property
    def rejected(self) -> bool:
        return self.verdict is Verdict.REJECTED

    @property
    def unanswered(self) -> bool:
        return self.verdict is Verdict.NO_ANSWER
