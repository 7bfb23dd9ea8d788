"""Deferred drops: a drop a cap, the gap or quiet time blocked waits here until it goes out or expires."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum, StrEnum

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from nurture.db.types import UTCDateTime


class DropPriority(IntEnum):
    """Which waiting drop goes first when several wait for one contact (higher first)."""

    DRIP = 10  # the journey's regular rhythm
    MILESTONE = 20  # a lifecycle milestone (welcome, renewal)
    BROADCAST = 30  # a time-critical broadcast
    SALES = 40  # sales asked for it


class DeferredState(StrEnum):
    WAITING = "waiting"
    SENT = "sent"  # went out (or was settled by the provider call) after waiting
    EXPIRED = "expired"  # waited past `expires_at`: its journey decides what an expired offer means
    CANCELLED = "cancelled"  # the contact was suppressed or erased while it waited


class DeferredDrop(SQLModel, table=True):
    """One blocked drop (unique per journey run and item). Written by `activities.caps`; cancelled only by
    `nurture.deferrals.cancel_waiting`."""

    __tablename__ = "deferred_drop"
    __table_args__ = (Index("ix_deferred_drop_contact_state", "contact_id", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=300, unique=True)  # the touch key: workflow id + item
    contact_id: int = Field(foreign_key="contact.id")
    journey: str = Field(max_length=64)
    item_id: str = Field(max_length=64)
    broadcast_id: str | None = Field(default=None, max_length=64)
    priority: int = Field(default=DropPriority.DRIP)
    earliest: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    state: str = Field(default=DeferredState.WAITING, max_length=20)
    rule: str = Field(default="", max_length=120)  # the rule that blocked it last
    reason: str = Field(default="", max_length=500)
    attempts: int = Field(default=1)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
