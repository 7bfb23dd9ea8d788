"""Touches: every time nurture reached (or decided not to reach) a contact, and the dev outbox."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field, SQLModel

from nurture.db.types import UTCDateTime


class TouchStatus(StrEnum):
    QUEUED = "queued"  # transactional mail written with its cause, waiting for the mailer (nurture.outbound.mailer)
    SENDING = "sending"  # claimed before the provider call; a retry finding this never sends again
    RETRYING = "retrying"  # provider refused for now (429/5xx/unreachable): claim released, a retry may send
    SENT = "sent"
    UNCONFIRMED = "unconfirmed"  # provider outcome unknown (timeout/crash mid-call): at most once, not resent
    FAILED = "failed"  # provider refused (4xx): recorded on the contact
    SUPPRESSED = "suppressed"  # contact unsubscribed/bounced: not sent
    HELD_OUT = "held_out"  # in the journey's holdout: recorded, never sent (workflows.experiments)


class Touch(SQLModel, table=True):
    """One drop to one contact. `idempotency_key` = workflow id + item: a retried send finds it."""

    __table_args__ = (
        Index("ix_touch_contact_sent", "contact_id", "sent_at"),
        Index("ix_touch_channel_status", "channel", "status"),  # the transactional mailer's queue
    )

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=300, unique=True)
    contact_id: int = Field(foreign_key="contact.id")
    journey: str = Field(max_length=64, index=True)
    workflow_id: str = Field(max_length=200)
    step: str = Field(max_length=120)
    item_id: str = Field(max_length=64)
    broadcast_id: str | None = Field(default=None, max_length=64, index=True)
    channel: str = Field(default="email", max_length=20)
    sender: str = Field(max_length=20)  # sendgrid | outbox
    status: str = Field(max_length=20)
    reason: str = Field(default="", max_length=500)  # why this drop was sent (the journey's decision)
    message_id: str | None = Field(default=None, max_length=200)
    error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # Wall-clock time of the latest claim (`sending`): how long the provider has had to report on it.
    claimed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    variants: dict[str, str] = Field(  # experiment key -> arm, as the journey had them (`j.variant`)
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default=text("'{}'"))
    )


class OutboxEmail(SQLModel, table=True):
    """The dev sender's mailbox: fully rendered emails, one per touch."""

    id: int | None = Field(default=None, primary_key=True)
    touch_id: int = Field(foreign_key="touch.id", unique=True)
    to_email: str = Field(max_length=320)
    subject: str = Field(max_length=300)
    html: str
    text: str
    headers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    custom_args: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
