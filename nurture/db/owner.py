"""Sales owners (reps) leads are routed to, and each team's round-robin cursor."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from nurture.db.types import UTCDateTime


class Owner(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, unique=True)  # how routing rules, the CLI and the CRM name the owner
    name: str = Field(default="", max_length=200)
    email: str = Field(default="", max_length=320)
    team: str = Field(max_length=64, index=True)
    territory: str = Field(default="", max_length=500)  # comma-separated country codes within the team
    time_zone: str = Field(default="UTC", max_length=60)
    weight: int = Field(default=1)
    away: bool = Field(default=False)
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class RoutingCursor(SQLModel, table=True):
    """How many leads a team's rotation has handed out; incremented in the assigning transaction."""

    __tablename__ = "routing_cursor"

    team: str = Field(primary_key=True, max_length=64)
    position: int = Field(default=0)
