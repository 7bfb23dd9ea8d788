"""The right to be forgotten: a hashed address that is never mailed again, and the audit of each erasure."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from nurture.db.types import UTCDateTime


class ErasedAddress(SQLModel, table=True):
    """SHA-256 of the normalised address (keyed with the tracking secret): suppression without the address."""

    __tablename__ = "erased_address"

    address_hash: str = Field(primary_key=True, max_length=64)
    erased_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Erasure(SQLModel, table=True):
    """Who erased which contact id, when and why. No personal data: the id is meaningless once erased."""

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(unique=True)  # not a foreign key: the contact row is gone
    requested_by: str = Field(max_length=120)
    reason: str = Field(max_length=500)
    rows_deleted: int = Field(default=0)
    rows_anonymised: int = Field(default=0)
    erased_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
