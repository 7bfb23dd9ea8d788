"""Bulk operations on journeys (pause, resume, end): one row per operation, one per contact it touches."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from nurture.db.types import UTCDateTime


class BulkAction(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    END = "end"


class BulkState(StrEnum):
    RUNNING = "running"
    DONE = "done"


class BulkOperation(SQLModel, table=True):
    """Who asked what, for which audience, why; `cursor` is the last item processed (resumable)."""

    __tablename__ = "bulk_operation"

    id: int | None = Field(default=None, primary_key=True)
    action: str = Field(max_length=20)
    audience: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    reason: str = Field(max_length=500)
    requested_by: str = Field(max_length=120)
    state: str = Field(default=BulkState.RUNNING, max_length=20)
    total: int = Field(default=0)
    cursor: int = Field(default=0)  # bulk_operation_item.id of the last processed item
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class BulkOperationItem(SQLModel, table=True):
    """One journey of one contact in an operation; `done_at` set when its signal was queued (idempotent)."""

    __tablename__ = "bulk_operation_item"
    __table_args__ = (UniqueConstraint("operation_id", "contact_id", "journey"),)

    id: int | None = Field(default=None, primary_key=True)
    operation_id: int = Field(foreign_key="bulk_operation.id", index=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    journey: str = Field(max_length=64)
    reason: str = Field(max_length=500)
    done_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
