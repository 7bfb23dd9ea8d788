"""What Temporal calls things: the task queue, workflow types, signals, queries and activities.

Workflows call activities and clients signal workflows by these names, so workflow code never imports I/O
modules and a rename is one edit here (and a breaking change for running workflows: names are in histories).
"""

from __future__ import annotations

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
SIGNAL_PAUSE_JOURNEY = "pause_journey"  # bulk control: send nothing, keep hearing events
SIGNAL_RESUME_JOURNEY = "resume_journey"
SIGNAL_CALL_OUTCOME = "record_call_outcome"  # a rep recorded how a call task went
QUERY_STATUS = "status"
# Goals: an exit signal with reason EXIT_GOAL_REACHED ends a journey whose goal happened (payload "goal" names it).
EXIT_GOAL_REACHED = "goal_reached"
GOAL_PURCHASE = "purchase"

# Signals and queries on BroadcastWorkflow.
SIGNAL_PAUSE = "pause"
SIGNAL_RESUME = "resume"
SIGNAL_CANCEL = "cancel"
QUERY_PROGRESS = "progress"

# Activities journeys call.
ACTIVITY_SEND_DROP = "send_drop"
ACTIVITY_SCORE_CONTACT = "score_contact"
ACTIVITY_ESCALATE_HANDOFF = "escalate_handoff"
ACTIVITY_REACH_STAGE = "reach_stage"
ACTIVITY_HAND_OFF = "hand_off_to_sales"
ACTIVITY_RECORD_SALES_FEEDBACK = "record_sales_feedback"
ACTIVITY_END_JOURNEY = "end_journey"
ACTIVITY_CREATE_CALL_TASK = "create_call_task"
ACTIVITY_CLOSE_CALL_TASK = "close_call_task"
ACTIVITY_RECORD_BROADCAST_OUTCOME = "record_broadcast_outcome"
# A broadcast drop and its outcome row in one local activity (journeys at runtime version 2 and later)
ACTIVITY_DROP_BROADCAST = "drop_broadcast"

# Activities broadcasts call.
ACTIVITY_COUNT_AUDIENCE = "count_broadcast_audience"
ACTIVITY_LIST_AUDIENCE_PAGE = "list_broadcast_audience_page"
ACTIVITY_SIGNAL_JOURNEYS = "signal_broadcast_to_journeys"
ACTIVITY_RECORD_PROGRESS = "record_broadcast_progress"
