"""A broadcast's states, the one definition the workflow, the audit row and every door share.

Pure (no I/O, no Temporal): the broadcast workflow imports it as well as the database models.
"""

from __future__ import annotations

from enum import StrEnum


class BroadcastState(StrEnum):
    DRAFT = "draft"  # created, not started
    RUNNING = "running"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    FAILED = "failed"  # delivery stopped on an error (the workflow failed); never resumed


# A broadcast in one of these never runs again.
FINAL_STATES: frozenset[BroadcastState] = frozenset(
    {BroadcastState.COMPLETED, BroadcastState.CANCELLED, BroadcastState.FAILED}
)
