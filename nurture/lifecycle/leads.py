"""Fit, readiness and the denormalised lead row the ranked list reads.

`readiness_of` gathers a contact's profile facts, events and orders and hands them to the pure rules
(`definitions.leads`). `refresh_lead` stores the result on the lead row (grade, score, strong signals, value,
rank, explanation); every writer that changes those facts calls it in its own transaction (imports, scoring,
handoffs). `top_leads` reads that row through the index that matches its ORDER BY, never Temporal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.engine import Connection

from definitions.leads.fit import DEFAULT_PROFILE, Grade
from definitions.leads.readiness import (
    MqlRule,
    Readiness,
    evaluate_readiness,
    rank_value,
    rank_why,
    recent_signals,
)
from definitions.leads.stages import PIPELINE
from nurture.db.tables import CONTACT, CONTACT_FACT, EVENT, LEAD, OWNER, PURCHASE, VISITOR
from nurture.lifecycle.stages import ensure_lead
from workflows.dsl import Engagement, scoring_for

ENGAGING = ("opened", "clicked", "page_view", "form_fill", "event_attended", "purchase")
COLD_AFTER = timedelta(days=21)


@dataclass(frozen=True)
class LeadView:
    contact_id: int
    stage: str
    grade: str
    score: float
    signals: tuple[str, ...]
    value: float
    readiness: float
    owner: str | None
    why: str
    last_engaged_at: datetime | None


def profile_facts(conn: Connection, contact_id: int) -> dict[str, str]:
    """Every known field of the contact: its row's profile columns, overlaid by imported facts."""
    c = CONTACT.c
    row = conn.execute(select(c.company, c.persona, c.time_zone).where(c.id == contact_id)).first()
    facts = {"company": row.company, "persona": row.persona, "time_zone": row.time_zone} if row else {}
    f = CONTACT_FACT.c
    facts.update({r.field: r.value for r in conn.execute(select(f.field, f.value).where(f.contact_id == contact_id))})
    return facts


def _engagement(conn: Connection, contact_id: int, since: datetime, until: datetime) -> list[Engagement]:
    e = EVENT.c
    visitors = select(VISITOR.c.anonymous_id).where(VISITOR.c.contact_id == contact_id).scalar_subquery()
    rows = conn.execute(
        select(e.kind, e.occurred_at, e.url, e.machine)
        .where(or_(e.contact_id == contact_id, e.anonymous_id.in_(visitors)), e.occurred_at.between(since, until))
        .order_by(e.occurred_at)
    ).all()
    return [Engagement(r.kind, r.occurred_at, r.url, r.machine) for r in rows]


def readiness_of(
    conn: Connection, contact_id: int, now: datetime, journey: str = "", rule: MqlRule = MqlRule()
) -> tuple[Readiness, float, datetime | None]:
    """(readiness on both axes, order value, last real engagement) for one contact, now."""
    rules = scoring_for(journey)
    events = _engagement(conn, contact_id, now - rules.horizon, now)
    scored = rules.score(events, now)
    grade: Grade = DEFAULT_PROFILE.grade(profile_facts(conn, contact_id))
    signals = recent_signals(events, now, rules, rule.signal_window)
    value = conn.execute(
        select(func.coalesce(func.sum(PURCHASE.c.amount), 0.0)).where(PURCHASE.c.contact_id == contact_id)
    ).scalar_one()
    engaged = [ev.occurred_at for ev in events if ev.kind in ENGAGING and not ev.machine]
    readiness = evaluate_readiness(grade, scored.score, scored.contributions, signals, rule)
    return readiness, float(value), (max(engaged) if engaged else None)


def refresh_lead(conn: Connection, contact_id: int, now: datetime) -> LeadView:
    """Recompute and store the contact's fit, score, signals, value and rank (in the caller's transaction)."""
    ensure_lead(conn, contact_id, now)
    ready, value, engaged = readiness_of(conn, contact_id, now)
    why: dict[str, Any] = {
        "rank": rank_why(ready.grade, ready.score, ready.signals, value),
        "fit": ready.grade.explain(),
        "facts": [{"field": f.field, "value": f.value, "steps": f.steps, "label": f.label} for f in ready.grade.facts],
        "top": [{"label": c.label, "points": c.points, "count": c.count} for c in ready.top[:3]],
        "readiness": ready.why,
    }
    conn.execute(
        update(LEAD)
        .where(LEAD.c.contact_id == contact_id)
        .values(
            grade=ready.grade.letter,
            score=ready.score,
            signals=list(ready.signals),
            value=value,
            readiness=rank_value(ready.grade, ready.score, ready.signals, value),
            why=why,
            last_engaged_at=engaged,
            updated_at=now,
        )
    )
    found = top_leads(conn, contact_ids=[contact_id], limit=1)
    return found[0]


def top_leads(
    conn: Connection,
    *,
    owner: str | None = None,
    stage: str | None = None,
    limit: int = 20,
    contact_ids: list[int] | None = None,
) -> list[LeadView]:
    """Leads by readiness, best first (ties: newest contact first), optionally one owner's or one stage's."""
    lead, o = LEAD.c, OWNER.c
    query = select(
        lead.contact_id,
        lead.stage,
        lead.grade,
        lead.score,
        lead.signals,
        lead.value,
        lead.readiness,
        lead.why,
        lead.last_engaged_at,
        o.key.label("owner"),
    ).select_from(LEAD.outerjoin(OWNER, o.id == lead.owner_id))
    if owner is not None:
        owner_id = select(o.id).where(o.key == owner).scalar_subquery()
        query = query.where(lead.owner_id == owner_id)
    if stage is not None:
        query = query.where(lead.stage == stage)
    if contact_ids is not None:
        query = query.where(lead.contact_id.in_(contact_ids))
    rows = conn.execute(query.order_by(lead.readiness.desc(), lead.contact_id.desc()).limit(limit)).all()
    return [
        LeadView(
            r.contact_id,
            r.stage,
            r.grade,
            r.score,
            tuple(r.signals),
            r.value,
            r.readiness,
            r.owner,
            str((r.why or {}).get("rank", "")),
            r.last_engaged_at,
        )
        for r in rows
    ]


def gone_cold(conn: Connection, owner: str, now: datetime, limit: int = 20) -> list[LeadView]:
    """An owner's pipeline leads with no real engagement for `COLD_AFTER` (oldest silence first)."""
    lead, o = LEAD.c, OWNER.c
    owner_id = select(o.id).where(o.key == owner).scalar_subquery()
    ids = conn.execute(
        select(lead.contact_id)
        .where(
            lead.owner_id == owner_id,
            lead.stage.in_(PIPELINE),
            or_(lead.last_engaged_at.is_(None), lead.last_engaged_at < now - COLD_AFTER),
        )
        .order_by(lead.last_engaged_at.asc().nulls_first(), lead.contact_id)
        .limit(limit)
    ).scalars()
    order = list(ids)
    views = {v.contact_id: v for v in top_leads(conn, contact_ids=order, limit=limit)}
    return [views[i] for i in order if i in views]
