"""What the broadcast service takes and returns: one set of models for the CLI and the HTTP door."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, computed_field

from nurture.broadcast_state import FINAL_STATES
from nurture.broadcasts.audience import Audience
from nurture.broadcasts.written import WrittenContent
from nurture.db import Broadcast

KINDS = ("product_launch", "regulation", "announcement")


class BroadcastError(Exception):
    """A broadcast request the service refuses; subclasses say how (the HTTP door maps them to codes)."""


class BroadcastNotFoundError(BroadcastError, LookupError):
    pass


class BroadcastConflictError(BroadcastError):
    """The broadcast is not in a state that allows this (start twice, pause a finished one, ...)."""


class InvalidBroadcastError(BroadcastError, ValueError):
    """Bad input: unknown item, bad kind or id, or an audience the server refuses."""


class BroadcastCreate(BaseModel):
    """A new broadcast: which catalog item goes to which audience, and how fast."""

    item_id: str = Field(
        default="", description="catalog item to drop (definitions/broadcasts.py or any journey catalog)"
    )
    content: WrittenContent | None = Field(default=None, description="written content instead of a catalog item")
    audience: Audience = Field(default_factory=Audience)
    kind: str | None = Field(default=None, description=f"one of {', '.join(KINDS)}; default: the item's kind")
    topics: list[str] | None = Field(default=None, description="default: the item's topics")
    rate_per_second: float = Field(default=500.0, gt=0, le=20000, description="signals per second")
    id: str | None = Field(default=None, description="broadcast id; default: generated from the item id")


class BroadcastPublic(BaseModel):
    """The audit record of a broadcast."""

    id: str
    kind: str
    item_id: str
    topics: list[str]
    audience: dict[str, Any]
    audience_query: str
    rate_per_second: float
    state: str
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    counts: dict[str, Any]

    @classmethod
    def of(cls, row: Broadcast) -> BroadcastPublic:
        return cls.model_validate(row, from_attributes=True)


class PreviewContact(BaseModel):
    """One journey in a preview sample, with its contact (for the marketer's eyes only)."""

    workflow_id: str
    contact_id: int | None
    journey: str | None
    stage: str | None
    persona: str | None
    lead_score: float | None
    email: str | None = None
    name: str | None = None
    status: str | None = None


class AudiencePreview(BaseModel):
    description: str
    query: str
    count: int
    sample: list[PreviewContact]


class ReasonCount(BaseModel):
    reason: str
    count: int


class BroadcastStatus(BaseModel):
    """Progress: what the broadcast workflow did (signalled, failed) and what journeys reported."""

    broadcast: BroadcastPublic
    state: str
    phase: str
    total: int  # audience size when delivery began
    signalled: int
    late: int  # journeys that started (or continued-as-new) while the broadcast paged, found by its sweep
    suppressed: int  # journeys of suppressed contacts: not signalled, recorded as skipped
    signal_failed: int
    signal_failures: dict[str, int]
    outcomes: dict[str, int]  # dropped / deferred / skipped / failed, as journeys reported them
    skip_reasons: list[ReasonCount]
    live: bool  # True: progress from the running workflow; False: from the audit row

    @computed_field  # type: ignore[prop-decorator]
    @property
    def delivered(self) -> int:
        """Journeys the broadcast has dealt with: signalled, passed over (suppressed) or failed to signal."""
        return self.signalled + self.suppressed + self.signal_failed

    @computed_field  # type: ignore[prop-decorator]
    @property
    def acted(self) -> int:
        return self.outcomes.get("dropped", 0) + self.outcomes.get("deferred", 0)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def skipped(self) -> int:
        return self.outcomes.get("skipped", 0)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def failed(self) -> int:
        return self.outcomes.get("failed", 0) + self.signal_failed

    @computed_field  # type: ignore[prop-decorator]
    @property
    def heard(self) -> int:
        return sum(self.outcomes.values())

    @computed_field  # type: ignore[prop-decorator]
    @property
    def finished(self) -> bool:
        return self.state in FINAL_STATES
