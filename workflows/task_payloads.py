"""Payloads of call tasks: the activity's input and result, the outcome signal, the timeout's conditional close."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class CallTaskInput:
    contact_id: int
    journey: str
    workflow_id: str
    attempt: int  # the journey's n-th call task: with the workflow id, the idempotency key
    why: str
    score: float
    now: datetime


@dataclass(frozen=True)
class CallTaskResult:
    task_id: int
    delivered: bool  # the CRM webhook took it (False: none configured, or it refused)
    detail: str = ""


@dataclass(frozen=True)
class CallOutcomeReport:
    """Signal: a rep recorded how the call went (an outcome word from `workflows.dsl.calls.RECORDABLE`)."""

    task_id: int
    outcome: str
    note: str = ""


@dataclass(frozen=True)
class CloseCallTaskInput:
    """The journey stopped waiting: close the task as timed out unless an outcome reached the row first."""

    task_id: int
    now: datetime
