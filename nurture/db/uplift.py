"""The console's uplift panel as last computed, shared by every API process: one row per question asked.

Written only by `nurture.console.uplift_snapshots` (the ask of a page, the claim and the result of a background
computation, the pruning of old custom questions). A row holds aggregates only (arm counts, rates and verdicts),
never anything about a person, so erasure has nothing to do here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from nurture.db.types import UTCDateTime


class UpliftSnapshot(SQLModel, table=True):
    __tablename__ = "uplift_snapshot"

    key: str = Field(primary_key=True, max_length=64)  # SHA-256 of the question (journey, outcome, window)
    journey: str = Field(max_length=64)
    outcome: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))  # {"event", "url_prefix"} or {"stage"}
    window_days: int
    entries: list[Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))  # None: not computed yet
    as_of: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    asked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))  # a page waits
    claimed_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
