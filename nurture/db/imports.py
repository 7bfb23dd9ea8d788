"""Facts other systems tell us about contacts, by natural key, so importing the same file twice changes nothing.

`external_ref`: a CRM's id for a contact. `contact_fact`: one value per (contact, field) with the source that set
it (`definitions.leads.sources` decides which source wins). `purchase`: an order, keyed by (source, order_id).
`attendance`: a contact at an event, keyed by (event_key, contact_id).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from nurture.db.types import UTCDateTime


class ExternalRef(SQLModel, table=True):
    __tablename__ = "external_ref"
    __table_args__ = (UniqueConstraint("system", "external_id", name="uq_external_ref_system_id"),)

    id: int | None = Field(default=None, primary_key=True)
    system: str = Field(max_length=40)
    external_id: str = Field(max_length=200)
    contact_id: int = Field(foreign_key="contact.id", index=True)


class ContactFact(SQLModel, table=True):
    __tablename__ = "contact_fact"
    __table_args__ = (UniqueConstraint("contact_id", "field", name="uq_contact_fact_field"),)

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id")
    field: str = Field(max_length=60)
    value: str = Field(max_length=500)
    source: str = Field(max_length=40)
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Purchase(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("source", "order_id", name="uq_purchase_source_order"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=40)
    order_id: str = Field(max_length=200)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    amount: float = Field(default=0.0)
    currency: str = Field(default="", max_length=3)
    product: str = Field(default="", max_length=200)
    ordered_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Attendance(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("event_key", "contact_id", name="uq_attendance_event_contact"),)

    id: int | None = Field(default=None, primary_key=True)
    event_key: str = Field(max_length=120)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    status: str = Field(default="attended", max_length=20)  # attended | registered | no_show
    attended_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
