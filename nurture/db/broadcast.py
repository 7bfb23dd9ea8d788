"""Broadcasts: unscheduled drops a marketer sends into running journeys, with their audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from nurture.broadcast_state import BroadcastState
from nurture.db.types import UTCDateTime

__all__ = ["Broadcast", "BroadcastDelivery", "BroadcastState"]


class Broadcast(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=40)  # product_launch, regulation, announcement
    item_id: str = Field(max_length=64)  # catalog item to drop
    topics: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    audience: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    audience_query: str = Field(default="")
    rate_per_second: float = Field(default=500.0)
    state: str = Field(default=BroadcastState.DRAFT, max_length=20)
    created_by: str = Field(max_length=120)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class BroadcastDelivery(SQLModel, table=True):
    """Per-journey outcome of a broadcast: acted (dropped/deferred) or skipped with a reason.

    One row per (broadcast, workflow): a journey's later outcome for the same broadcast updates it.
    """

    __table_args__ = (UniqueConstraint("broadcast_id", "workflow_id", name="uq_broadcastdelivery_broadcast_workflow"),)

    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: str = Field(foreign_key="broadcast.id", index=True)
    workflow_id: str = Field(max_length=200)
    contact_id: int = Field(foreign_key="contact.id")
    outcome: str = Field(max_length=20)  # dropped, deferred, skipped, failed
    reason: str = Field(default="", max_length=300)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
