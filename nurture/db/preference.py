"""What a contact chose in the preference center: topics, how often, a snooze."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from nurture.db.types import UTCDateTime


class Preference(SQLModel, table=True):
    """One row per contact that has visited the preference center. Written only by `nurture.inbound.preferences`."""

    contact_id: int = Field(foreign_key="contact.id", primary_key=True)
    topics: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    frequency: str = Field(default="any", max_length=20)  # nurture.caps.Frequency
    snoozed_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
