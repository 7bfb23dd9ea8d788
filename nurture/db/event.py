"""Everything a contact (or anonymous visitor) did, and the outbox of signals owed to journeys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from nurture.db.types import UTCDateTime


class Event(SQLModel, table=True):
    """One stored event. `dedupe_key` makes at-least-once deliveries count once."""

    __table_args__ = (Index("ix_event_contact_occurred", "contact_id", "occurred_at"),)

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=200, unique=True)
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    anonymous_id: str | None = Field(default=None, max_length=128, index=True)
    kind: str = Field(max_length=40, index=True)  # opened, clicked, page_view, bounce, unsubscribe, ...
    source: str = Field(max_length=20)  # sendgrid, web, cli, demo
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    received_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    journey: str | None = Field(default=None, max_length=64)
    item_id: str | None = Field(default=None, max_length=64)
    url: str | None = Field(default=None, max_length=2000)
    topic: str | None = Field(default=None, max_length=100)
    machine: bool = Field(default=False)  # machine opens (Apple MPP, scanners) never count as engagement
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class SignalOutbox(SQLModel, table=True):
    """Signals owed to journeys, written in the same transaction as the event (transactional outbox).

    A relay delivers them in id order per contact and marks them delivered; nothing is lost while Temporal
    is down.
    """

    __table_args__ = (
        Index("ix_signal_outbox_pending", "delivered_at", "id"),
        Index("ix_signal_outbox_contact_pending", "contact_id", "delivered_at"),  # is this contact's queue held?
    )

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    event_id: int | None = Field(default=None, foreign_key="event.id")
    journey: str | None = Field(default=None, max_length=64)  # None = every running journey of the contact
    signal: str = Field(max_length=60)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=500)
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # A relay's claim on the contact's pending rows (nurture.outbound.relay): held until `lease_until`.
    claimed_by: str | None = Field(default=None, max_length=40)
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
