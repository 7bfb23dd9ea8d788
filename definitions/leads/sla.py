"""How fast sales must accept a handed-off lead. Owner: sales leadership. Pure data.

The clock runs in business hours in the owner's time zone (weekdays, 9:00-17:00). A miss escalates to the team
lead and re-routes the lead to the next owner; after `max_misses` misses the lead is recycled, "SLA missed".
"""

from __future__ import annotations

from workflows.dsl import SlaPolicy as SlaPolicy  # the policy type, re-exported: it lives with the registry
from workflows.dsl import register_slas

DEFAULT_SLA = SlaPolicy()

# Journeys whose handoffs run on an SLA register their policy here (key = journey key); others just wait for
# feedback up to their `sales_feedback_timeout`.
SLAS: dict[str, SlaPolicy] = {}
register_slas(SLAS, default=DEFAULT_SLA)


def sla_for(journey: str) -> SlaPolicy | None:
    return SLAS.get(journey)
