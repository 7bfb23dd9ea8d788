"""Payloads that cross the Temporal boundary: workflow inputs, signals, query results, activity I/O.

One module per role (`signals`, `journey`, `activity`); this package re-exports every payload, so
`from workflows.payloads import X` is the public name. Temporal's data converter reads fields, not module paths:
moving a payload between these modules changes no history.
"""

from __future__ import annotations

from workflows.payloads.activity import (
    BroadcastOutcomeInput,
    EscalateInput,
    EscalateResult,
    HandoffInput,
    HandoffResult,
    JourneyEndInput,
    ReachStageInput,
    SalesFeedbackInput,
    ScoreContribution,
    ScoreInput,
    ScoreResult,
    SendDropInput,
    SendDropResult,
)
from workflows.payloads.journey import (
    RUNTIME_VERSION,
    DeferredBroadcast,
    InboxEvent,
    JournalEntry,
    JourneyCarry,
    JourneyInput,
    JourneyResult,
    JourneyStatus,
    StoryView,
)
from workflows.payloads.signals import (
    BroadcastNotice,
    EngagementEvent,
    ExitRequest,
    PageView,
    PauseRequest,
    PreferenceChange,
    SalesFeedback,
)

__all__ = [
    "RUNTIME_VERSION",
    "BroadcastNotice",
    "BroadcastOutcomeInput",
    "DeferredBroadcast",
    "EngagementEvent",
    "EscalateInput",
    "EscalateResult",
    "ExitRequest",
    "HandoffInput",
    "HandoffResult",
    "InboxEvent",
    "JournalEntry",
    "JourneyCarry",
    "JourneyEndInput",
    "JourneyInput",
    "JourneyResult",
    "JourneyStatus",
    "PageView",
    "PauseRequest",
    "PreferenceChange",
    "ReachStageInput",
    "SalesFeedback",
    "SalesFeedbackInput",
    "ScoreContribution",
    "ScoreInput",
    "ScoreResult",
    "SendDropInput",
    "SendDropResult",
    "StoryView",
]
