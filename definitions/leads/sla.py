"""How fast sales must accept a handed-off lead. Owner: sales leadership. Pure data.

The clock runs in business hours in the owner's time zone (weekdays, 9:00-17:00). A miss escalates to the team
lead and re-routes the lead to the next owner; after `max_misses` misses the lead is recycled, "SLA missed".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SlaPolicy:
    business_hours: float = 8.0  # one working day
    open_hour: int = 9
    close_hour: int = 17
    weekdays: frozenset[int] = frozenset(range(5))  # Monday = 0
    max_misses: int = 2
    escalate_to: str = "team lead"


DEFAULT_SLA = SlaPolicy()

# Journeys whose handoffs run on an SLA register their policy here (key = journey key); others just wait for
# feedback up to their `sales_feedback_timeout`.
SLAS: dict[str, SlaPolicy] = {}


def sla_for(journey: str) -> SlaPolicy | None:
    return SLAS.get(journey)
