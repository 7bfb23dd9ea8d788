"""Events a valid, signed delivery carried that nurture could not use, kept with the reason.

A signed SendGrid batch is accepted whole (SendGrid would otherwise retry it for a day and drop the good events
with the bad); each unusable event in it (unknown kind, wrong types, a timestamp out of range, bad unicode, NUL
bytes) becomes one row here instead of an `event` row, so an operator can see what was refused and why.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from nurture.db.types import UTCDateTime


class RejectedEvent(SQLModel, table=True):
    """One refused event: where it came from, its position in the delivery, why, and its text (ASCII-escaped)."""

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=20)  # sendgrid
    received_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    position: int  # index of the event in its batch
    reason: str = Field(max_length=500)
    raw: str = Field(sa_column=Column(Text, nullable=False))  # JSON with every non-ASCII character escaped
