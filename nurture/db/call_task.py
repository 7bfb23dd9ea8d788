"""Call tasks: a journey asks a person to phone a contact; a rep records how it went.

Written only by `nurture.lifecycle.call_tasks` (open, record an outcome, close at the journey's timeout).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from nurture.db.types import UTCDateTime


class CallTask(SQLModel, table=True):
    __tablename__ = "call_task"

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=300, unique=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    journey: str = Field(max_length=64)
    workflow_id: str = Field(max_length=200)
    why: str = Field(max_length=500)
    context: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    owner_id: int | None = Field(default=None)  # the lead's owner when the task was opened
    status: str = Field(default="open", max_length=20)  # open | done | timed_out
    outcome: str | None = Field(default=None, max_length=30)  # workflows.dsl.CallOutcome
    note: str | None = Field(default=None, max_length=500)
    crm_response: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    answered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
