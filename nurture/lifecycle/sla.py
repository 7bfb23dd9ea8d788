"""The handoff SLA on the database side: business-hours deadlines in the owner's zone, and escalations.

`business_deadline` adds business hours in a time zone (skipping nights and weekends). `escalate` records a
missed SLA as a stage event (the lead's history shows every escalation), re-routes the lead to the next available
owner (never the one who missed it) on the lead row and the handoff, and says whether the misses now call for
recycling. Journeys will call these through an activity (the workflow side is not built yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from definitions.leads.sla import DEFAULT_SLA, SlaPolicy, sla_for
from nurture.db.tables import HANDOFF, LEAD, OWNER, STAGE_CHANGE
from nurture.lifecycle.routing import assign_owner
from nurture.lifecycle.stages import ensure_lead
from workflows.lifecycle import ActorKind

ESCALATION = "SLA missed"


def business_deadline(start: datetime, time_zone: str, policy: SlaPolicy = DEFAULT_SLA) -> datetime:
    """`start` plus the policy's business hours, counted only inside opening hours in `time_zone` (UTC out)."""
    zone = ZoneInfo(time_zone)
    at = start.astimezone(zone)
    left = timedelta(hours=policy.business_hours)
    while left > timedelta(0):
        opens = at.replace(hour=policy.open_hour, minute=0, second=0, microsecond=0)
        closes = at.replace(hour=policy.close_hour, minute=0, second=0, microsecond=0)
        if at.weekday() not in policy.weekdays or at >= closes:
            at = (opens + timedelta(days=1)).replace(hour=policy.open_hour)
            continue
        at = max(at, opens)
        step = min(left, closes - at)
        at, left = at + step, left - step
    return at.astimezone(UTC)


@dataclass(frozen=True)
class Escalation:
    misses: int
    from_owner: str | None
    to_owner: str | None
    recycle: bool  # misses reached the policy's limit: the journey recycles the lead, "SLA missed"
    why: str


def escalate(
    conn: Connection, handoff_id: int, now: datetime, actor_id: str, policy: SlaPolicy = DEFAULT_SLA
) -> Escalation:
    """Record one missed SLA for `handoff_id` and re-route (in the caller's transaction)."""
    h, o = HANDOFF.c, OWNER.c
    row = conn.execute(
        select(h.contact_id, o.key).select_from(HANDOFF.outerjoin(OWNER, o.id == h.owner_id)).where(h.id == handoff_id)
    ).one()
    contact_id, owner = row
    ensure_lead(conn, contact_id, now)
    s = STAGE_CHANGE.c
    earlier = conn.execute(
        select(func.count()).where(s.contact_id == contact_id, s.actor_id == actor_id, s.why.like(f"{ESCALATION}%"))
    ).scalar_one()
    misses = int(earlier) + 1
    recycle = misses >= policy.max_misses
    to_owner = None
    if not recycle:
        assigned = assign_owner(conn, contact_id, now, exclude=frozenset({owner} if owner else ()))
        to_owner = assigned.owner
        conn.execute(update(HANDOFF).where(h.id == handoff_id).values(owner_id=assigned.owner_id))
    stage = conn.execute(select(LEAD.c.stage).where(LEAD.c.contact_id == contact_id)).scalar_one()
    why = f"{ESCALATION} ({misses}/{policy.max_misses}) by {owner or 'nobody'}: escalated to the {policy.escalate_to}"
    why += "; recycling" if recycle else f"; re-routed to {to_owner or 'nobody available'}"
    conn.execute(
        insert(STAGE_CHANGE).values(
            contact_id=contact_id,
            from_stage=stage,
            to_stage=stage,
            at=now,
            why=why,
            actor_kind=ActorKind.JOURNEY.value,
            actor_id=actor_id,
        )
    )
    return Escalation(misses, owner, to_owner, recycle, why)


def handoff_deadline(conn: Connection, handoff_id: int, journey: str, start: datetime) -> datetime | None:
    """The SLA deadline for a handoff from `start`, in its owner's time zone; None when the journey has no SLA."""
    policy = sla_for(journey)
    if policy is None:
        return None
    zone = conn.execute(
        select(OWNER.c.time_zone).join(HANDOFF, HANDOFF.c.owner_id == OWNER.c.id).where(HANDOFF.c.id == handoff_id)
    ).scalar()
    return business_deadline(start, zone or "UTC", policy)
