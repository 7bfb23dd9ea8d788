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
# nurturing | with_sales | cooling_down while the journey runs. `ended` is what nurture shows once it is over (from
# ExecutionStatus; its result or failure says how): journeys from runtime version 4 on do not upsert at the end, so
# their search attributes stay as at their last wait; versions 1-3 upserted `ended` and unset NurtureNextDropAt.
SA_PHASE = SearchAttributeKey.for_keyword("NurturePhase")
RUNNING_PHASES = ("nurturing", "with_sales", "cooling_down")
PHASE_ENDED = "ended"
PHASES = (*RUNNING_PHASES, PHASE_ENDED)
PATCH_PHASE_ENDED = "phase-ended-on-close"  # workflow.patched id: ended journeys upsert NurturePhase = 'ended'
SA_TOPICS = SearchAttributeKey.for_keyword_list("NurtureTopics")
# The contact's lifecycle stage (definitions/leads/stages.py: subscriber ... advocate) as the journey last moved it
# through one of its own steps (reach_stage, a handoff making an MQL); unset until a journey step moves it.
SA_LIFECYCLE_STAGE = SearchAttributeKey.for_keyword("NurtureLifecycleStage")
PATCH_LIFECYCLE_STAGE = "lifecycle-stage-sa"  # workflow.patched id: histories from before it replay without it
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
    SA_LIFECYCLE_STAGE,
    SA_BROADCAST_ID,
    SA_BROADCAST_STATE,
    SA_BROADCAST_SIGNALLED,
)
