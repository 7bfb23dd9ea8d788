"""Leads and lifecycle stages: the ranked leads page (filter by owner and stage) and a journey's contacts by
lifecycle stage, both from the database (`lead`, `enrollment`, `owner`), never Temporal.

The ranking and its explanation are `nurture.lifecycle.leads.top_leads`: the console only shows them.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import distinct, func, select
from sqlalchemy.engine import Connection
from sqlmodel import Session

from definitions.leads.stages import STAGES as LIFECYCLE
from nurture.console import store
from nurture.console.web import PREFIX, db, page, signed_in
from nurture.db.tables import CONTACT, ENROLLMENT, LEAD, OWNER
from nurture.inbound.privacy import not_erased
from nurture.lifecycle.leads import LeadView, top_leads

router = APIRouter(prefix=PREFIX, include_in_schema=False)
STAGE_KEYS = (*LIFECYCLE.line, *LIFECYCLE.side)
LABELS = dict(LIFECYCLE.labels)
LIMITS = (20, 50, 100)


def stage_counts(conn: Connection, journey: str) -> list[tuple[str, str, int]]:
    """Contacts ever enrolled in `journey` by their current lifecycle stage: (key, label, count), line order. A
    contact no stage move has touched yet has no lead row (`ensure_lead` makes it at its first move): it is at
    the line's first stage, and counted there. An erased contact (its lead row deleted, its enrollment kept for
    the counts) is in no stage."""
    lead, enrolled, person = LEAD.c, ENROLLMENT.c, CONTACT.c
    stage = func.coalesce(lead.stage, LIFECYCLE.initial)
    rows = conn.execute(
        select(stage, func.count(distinct(enrolled.contact_id)))
        .select_from(
            ENROLLMENT.join(CONTACT, person.id == enrolled.contact_id).outerjoin(
                LEAD, enrolled.contact_id == lead.contact_id
            )
        )
        .where(enrolled.journey == journey)
        .where(not_erased())  # erasure deletes the lead row and keeps the enrollment
        .group_by(stage)
    ).all()
    found = {stage: int(n) for stage, n in rows}
    keys = [*STAGE_KEYS, *sorted(set(found) - set(STAGE_KEYS))]  # a stage retired since keeps its rows visible
    return [(k, LABELS.get(k, k), found.get(k, 0)) for k in keys]


@router.get("/leads", response_class=HTMLResponse)
async def leads_page(request: Request, user: store.SignedIn = Depends(signed_in)) -> HTMLResponse:
    q = request.query_params
    owner, stage = (q.get("owner") or "").strip(), (q.get("stage") or "").strip()
    limit = int(q["limit"]) if q.get("limit") in {str(n) for n in LIMITS} else LIMITS[0]
    key = OWNER.c.key
    owners: list[str] = await db(request, lambda s: list(s.connection().execute(select(key).order_by(key)).scalars()))
    problems = []
    if stage and stage not in STAGE_KEYS:
        problems.append(f"unknown stage {stage[:40]!r}")
    if owner and owner not in owners:
        problems.append(f"unknown owner {owner[:64]!r}")

    def read(s: Session) -> list[LeadView]:
        return top_leads(s.connection(), owner=owner or None, stage=stage or None, limit=limit)

    leads = [] if problems else await db(request, read)
    return page(
        request,
        "leads.html",
        user,
        status_code=422 if problems else 200,
        error="; ".join(problems),
        leads=leads,
        owners=owners,
        stages=[(k, LABELS.get(k, k)) for k in STAGE_KEYS],
        labels=LABELS,
        owner=owner,
        stage=stage,
        limit=limit,
        limits=LIMITS,
    )
