"""Names shared between processes: workflow ids, signal/query names, search-attribute keys.

Temporal carries ids only. Every id built here is made of contact ids, journey keys and broadcast ids:
never an email address or a name.
"""

from __future__ import annotations

import re
from typing import Any

from temporalio.common import SearchAttributeKey

DEFAULT_TASK_QUEUE = "nurture-journeys"

JOURNEY_WORKFLOW = "JourneyWorkflow"
BROADCAST_WORKFLOW = "BroadcastWorkflow"

# Signals and queries on JourneyWorkflow (handlers are verbs, payloads event nouns).
SIGNAL_ENGAGEMENT = "record_engagement"
SIGNAL_PAGE_VIEW = "record_page_view"
SIGNAL_BROADCAST = "receive_broadcast"
SIGNAL_EXIT = "exit_journey"
SIGNAL_SALES_FEEDBACK = "receive_sales_feedback"
SIGNAL_PREFERENCES = "update_preferences"  # preference center choices (ids and choices only)
SIGNAL_PAUSE = "pause_journey"  # bulk control: send nothing, keep hearing events
SIGNAL_RESUME = "resume_journey"
QUERY_STATUS = "status"

# Search attributes (PascalCase), upserted by every journey for ops and broadcast audiences.
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

_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def check_key(key: str, what: str = "key") -> str:
    """A journey or broadcast key: lowercase letters, digits and dashes (it ends up in workflow ids)."""
    if not _KEY.match(key):
        raise ValueError(f"invalid {what} {key!r}: use lowercase letters, digits, dashes and underscores")
    return key


def journey_workflow_id(journey: str, contact_id: int) -> str:
    """Exactly one running journey per (journey, contact): the id is the uniqueness guard."""
    return f"journey/{check_key(journey, 'journey')}/contact-{int(contact_id)}"


def parse_journey_workflow_id(workflow_id: str) -> tuple[str, int]:
    """Inverse of `journey_workflow_id`."""
    try:
        prefix, journey, contact = workflow_id.split("/")
        if prefix != "journey" or not contact.startswith("contact-"):
            raise ValueError
        return journey, int(contact.removeprefix("contact-"))
    except ValueError as exc:
        raise ValueError(f"not a journey workflow id: {workflow_id!r}") from exc


def broadcast_workflow_id(broadcast_id: str) -> str:
    return f"broadcast/{check_key(broadcast_id, 'broadcast id')}"


# Activity names: workflows call activities by name, so workflow code never imports I/O modules.
ACTIVITY_SEND_DROP = "send_drop"
ACTIVITY_SCORE_CONTACT = "score_contact"
ACTIVITY_HAND_OFF = "hand_off_to_sales"
ACTIVITY_RECORD_SALES_FEEDBACK = "record_sales_feedback"
ACTIVITY_END_JOURNEY = "end_journey"
ACTIVITY_RECORD_BROADCAST_OUTCOME = "record_broadcast_outcome"

# SendGrid custom_args (strings only): every event for a drop routes back by these ids.
CUSTOM_ARG_CONTACT = "nurture_contact_id"
CUSTOM_ARG_JOURNEY = "nurture_journey"
CUSTOM_ARG_ITEM = "nurture_item_id"
CUSTOM_ARG_TOUCH = "nurture_touch_id"
CUSTOM_ARG_BROADCAST = "nurture_broadcast_id"
