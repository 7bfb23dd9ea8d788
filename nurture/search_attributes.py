"""Search-attribute keys (PascalCase): upserted by journeys and broadcasts, for ops and broadcast audiences.

Search attributes are never encoded by a payload codec and are visible to anyone with access to the namespace:
ids and non-identifying values only.
"""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey

SA_JOURNEY = SearchAttributeKey.for_keyword("NurtureJourney")
SA_CONTACT = SearchAttributeKey.for_keyword("NurtureContactId")
SA_STAGE = SearchAttributeKey.for_keyword("NurtureStage")
SA_PERSONA = SearchAttributeKey.for_keyword("NurturePersona")
SA_LEAD_SCORE = SearchAttributeKey.for_float("NurtureLeadScore")
# The wake-up planned when stage, score, drops sent or phase last changed (after a drop: the end of its wait, so
# the next drop's time give or take the rest and send-window alignment); not re-upserted for every nap.
SA_NEXT_DROP_AT = SearchAttributeKey.for_datetime("NurtureNextDropAt")
SA_DROPS_SENT = SearchAttributeKey.for_int("NurtureDropsSent")
# nurturing | with_sales | cooling_down while the journey runs; an ended journey keeps its last one (its
# ExecutionStatus and result say how it ended).
SA_PHASE = SearchAttributeKey.for_keyword("NurturePhase")
SA_TOPICS = SearchAttributeKey.for_keyword_list("NurtureTopics")
# Broadcast workflows
SA_BROADCAST_ID = SearchAttributeKey.for_keyword("NurtureBroadcastId")
SA_BROADCAST_STATE = SearchAttributeKey.for_keyword("NurtureBroadcastState")
SA_BROADCAST_SIGNALLED = SearchAttributeKey.for_int("NurtureBroadcastSignalled")

ALL_SEARCH_ATTRIBUTES: tuple[SearchAttributeKey[Any], ...] = (
    SA_JOURNEY,
    SA_CONTACT,
    SA_STAGE,
    SA_PERSONA,
    SA_LEAD_SCORE,
    SA_NEXT_DROP_AT,
    SA_DROPS_SENT,
    SA_PHASE,
    SA_TOPICS,
    SA_BROADCAST_ID,
    SA_BROADCAST_STATE,
    SA_BROADCAST_SIGNALLED,
)
