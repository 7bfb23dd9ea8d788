"""Where a contact stands in its life: every stage change, and one denormalised lead row per contact.

`stage_change` is the history (written only by `nurture.lifecycle.stages.move_stage`). `lead` holds the current
stage with when it was entered, plus the fit grade, score, strong signals, value, owner and the readiness rank
the ranked list orders by (kept by `nurture.lifecycle.leads.refresh_lead`); its indexes match that ORDER BY.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from nurture.db.types import UTCDateTime


class StageChange(SQLModel, table=True):
    __tablename__ = "stage_change"
    __table_args__ = (Index("ix_stage_change_contact_at", "contact_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id")
    from_stage: str | None = Field(default=None, max_length=40)  # None: the first stage recorded
    to_stage: str = Field(max_length=40)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    why: str = Field(max_length=500)
    actor_kind: str = Field(max_length=20)  # journey_step | sales_verdict | import | operator
    actor_id: str = Field(default="", max_length=200)  # workflow id, handoff id, file name, operator name


class Lead(SQLModel, table=True):
    __table_args__ = (
        Index("ix_lead_readiness", "readiness", "contact_id"),
        Index("ix_lead_owner_readiness", "owner_id", "readiness", "contact_id"),
        Index("ix_lead_stage_readiness", "stage", "readiness", "contact_id"),
    )

    contact_id: int = Field(foreign_key="contact.id", primary_key=True, sa_column_kwargs={"autoincrement": False})
    stage: str = Field(max_length=40)
    stage_entered_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    grade: str = Field(default="D+", max_length=2)
    score: float = Field(default=0.0)
    signals: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    value: float = Field(default=0.0)  # orders imported for the contact
    readiness: float = Field(default=0.0)  # `definitions.leads.readiness.rank_value`
    why: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    owner_id: int | None = Field(default=None, foreign_key="owner.id")
    last_engaged_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
