"""Consent: an append-only record of every grant, confirmation and withdrawal, kept forever.

A row is never updated or deleted. The contact's `status` column is a cache of what the latest row means, written
only by `nurture.consent.record_consent` in the same transaction as the row.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from nurture.db.types import UTCDateTime


class ConsentAction(StrEnum):
    REQUESTED = "requested"  # double opt-in asked for: nothing is sent but the confirmation email
    GRANTED = "granted"  # single opt-in (a form without confirmation, an import, a trusted integration)
    CONFIRMED = "confirmed"  # the owner of the address followed the confirmation link and pressed the button
    WITHDRAWN = "withdrawn"  # unsubscribe (link, one-click, provider) or a spam complaint
    SUPPRESSED = "suppressed"  # the address cannot take mail (bounce, dropped): not the person's choice
    PREFERENCES = "preferences"  # topics, frequency or a snooze chosen in the preference center: status unchanged


class LawfulBasis(StrEnum):
    CONSENT = "consent"
    LEGITIMATE_INTEREST = "legitimate_interest"
    CONTRACT = "contract"


class Consent(SQLModel, table=True):
    """One consent change. `source` says where it came from (a form URL, `one-click`, `sendgrid:spamreport`)."""

    __table_args__ = (Index("ix_consent_contact_occurred", "contact_id", "occurred_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id")
    action: str = Field(max_length=20)  # a ConsentAction
    source: str = Field(max_length=200)
    wording: str | None = Field(default=None, max_length=500)  # the form id or the words the person agreed to
    lawful_basis: str = Field(default=LawfulBasis.CONSENT, max_length=30)
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=500)
    actor: str = Field(max_length=60)  # public, api-token, contact-token, sendgrid, journey, cli, migration
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
