"""What `nurture status` can show about a contact's lifecycle: stage, time in stage, fit grade, owner, rank, and the
whole stage history (from, to, when, why, by whom)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine

from nurture.db.tables import LEAD, OWNER
from nurture.lifecycle.stages import StageRecord, stage_history, stage_status


@dataclass(frozen=True)
class LifecycleSummary:
    stage: str
    label: str
    entered_at: datetime
    time_in_stage: timedelta
    grade: str
    owner: str | None
    readiness: str  # why the lead ranks where it does
    history: tuple[StageRecord, ...] = field(default=())  # every stage change, oldest first

    def lines(self) -> list[str]:
        """Human lines for a status screen."""
        days = self.time_in_stage.total_seconds() / 86400
        return [
            f"lifecycle stage: {self.label} ({self.stage}) for {days:.1f} days, since {self.entered_at:%Y-%m-%d %H:%M}",
            f"fit grade: {self.grade}; owner: {self.owner or 'none'}",
            f"rank: {self.readiness}",
        ]


def lifecycle_summary(engine: Engine, contact_id: int, now: datetime) -> LifecycleSummary | None:
    """None when lifecycle has never seen the contact (no stage recorded yet)."""
    with engine.connect() as conn:
        status = stage_status(conn, contact_id, now)
        if status is None:
            return None
        row = conn.execute(
            select(LEAD.c.grade, LEAD.c.why, OWNER.c.key)
            .select_from(LEAD.outerjoin(OWNER, OWNER.c.id == LEAD.c.owner_id))
            .where(LEAD.c.contact_id == contact_id)
        ).one()
        history = tuple(stage_history(conn, contact_id))
    why = str((row.why or {}).get("rank", ""))
    return LifecycleSummary(
        status.stage, status.label, status.entered_at, status.time_in_stage, row.grade, row.key, why, history
    )
