"""Readiness scores and handoffs to sales."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from nurture.db.types import UTCDateTime


class Score(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    journey: str = Field(max_length=64)
    score: float
    stage: str = Field(max_length=30)
    explanation: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    scored_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class HandoffStatus(StrEnum):
    PENDING = "pending"  # recorded, CRM delivery not yet confirmed (or no CRM configured)
    DELIVERED = "delivered"  # CRM webhook answered 2xx
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class Handoff(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=300, unique=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    journey: str = Field(max_length=64)
    workflow_id: str = Field(max_length=200)
    score: float
    reason: str = Field(max_length=500)
    context: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=HandoffStatus.PENDING, max_length=20)
    owner_id: int | None = Field(default=None)  # the routed owner (`owner.id`); None: nobody was available
    crm_response: str | None = Field(default=None, max_length=500)
    feedback_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    feedback_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
