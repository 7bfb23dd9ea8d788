"""Contacts (the only place PII lives) and anonymous visitors stitched to them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from nurture.db.types import UTCDateTime


class ContactStatus(StrEnum):
    ACTIVE = "active"
    PENDING_CONFIRMATION = "pending_confirmation"  # double opt-in not yet confirmed
    SUPPRESSED = "suppressed"  # unsubscribed, bounced, complained: never email again
    CUSTOMER = "customer"  # sales accepted the lead


class ContactBase(SQLModel):
    email: str = Field(max_length=320, index=True, unique=True)
    first_name: str = Field(default="", max_length=120)
    last_name: str = Field(default="", max_length=120)
    company: str = Field(default="", max_length=200)
    persona: str = Field(default="general", max_length=60)
    time_zone: str = Field(default="UTC", max_length=60)
    topics: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Contact(ContactBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # status: a cache of the latest consent row, written only by nurture.consent.record_consent (and "customer"
    # by the journey end); consent_*: the first opt-in, kept for reading; the whole trail is the consent table.
    status: str = Field(default=ContactStatus.ACTIVE, max_length=30, index=True)
    consent_source: str = Field(default="", max_length=200)
    consent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    consent_ip: str | None = Field(default=None, max_length=64)
    country: str | None = Field(default=None, max_length=2)  # ISO 3166-1 alpha-2, for public holidays
    suppressed_reason: str | None = Field(default=None, max_length=60)
    suppressed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    last_send_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Visitor(SQLModel, table=True):
    """An anonymous web visitor id, linked to a contact once they identify themselves."""

    anonymous_id: str = Field(primary_key=True, max_length=128)
    contact_id: int | None = Field(default=None, foreign_key="contact.id", index=True)
    first_seen_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    identified_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class Enrollment(SQLModel, table=True):
    """Which journeys a contact is in: the event router signals these workflow ids."""

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    journey: str = Field(max_length=64)
    workflow_id: str = Field(max_length=200, unique=True)
    enrolled_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    outcome: str | None = Field(default=None, max_length=60)  # customer, unsubscribed, completed, ...
