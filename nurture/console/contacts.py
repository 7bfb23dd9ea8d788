"""Contact pages: search by email or id, then one contact's timeline (touches and events, newest first), the
score explanation, the consent trail, and each journey's link into the Temporal UI.

The score is computed live with the journey's scoring rules over the same events the journey reads, like
`GET /contacts/{id}/history`. Lifecycle stages join the timeline once their table exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from nurture.api.errors import ApiError
from nurture.clock import utcnow
from nurture.config import Settings
from nurture.console import store
from nurture.console.web import PREFIX, ctx_of, db, page, signed_in
from nurture.db import Contact, Enrollment, Event, Score, Touch, Visitor
from workflows.dsl import Engagement, scoring_for

router = APIRouter(prefix=PREFIX, include_in_schema=False)
CONSENT_KINDS = ("form_fill", "opt_in_confirmed", "unsubscribe", "group_unsubscribe", "group_resubscribe", "spamreport")
TIMELINE_LIMIT = 300


@dataclass(frozen=True)
class Moment:
    at: datetime
    what: str  # touch | event
    kind: str
    detail: str
    journey: str | None
    machine: bool = False


def temporal_link(settings: Settings, workflow_id: str) -> str:
    base = settings.temporal_ui_url or f"http://localhost:{settings.temporal_ui_port}"
    return f"{base.rstrip('/')}/namespaces/{quote(settings.temporal_namespace)}/workflows/{quote(workflow_id, safe='')}"


@router.get("/contacts", response_class=HTMLResponse)
async def search(request: Request, q: str = "", user: store.SignedIn = Depends(signed_in)) -> Response:
    q = q.strip()[:320]
    numeric = q.isascii() and q.isdigit()  # "²" is a digit to str.isdigit, and no number to int()
    if numeric and 0 < int(q) < 2**63:
        found = await db(request, lambda s: s.get(Contact, int(q)))
        if found is not None:
            return RedirectResponse(f"{PREFIX}/contacts/{found.id}", status_code=303)

    def find(s: Session) -> list[Contact]:
        if not q or numeric:
            return []
        pattern = q.lower().replace("\\", "").replace("%", "").replace("_", r"\_") + "%"
        return list(
            s.exec(
                select(Contact)
                .where(or_(col(Contact.email) == q, func.lower(Contact.email).like(pattern, escape="\\")))
                .order_by(Contact.email)
                .limit(50)
            ).all()
        )

    results = await db(request, find)
    if len(results) == 1 and results[0].email.lower() == q.lower():
        return RedirectResponse(f"{PREFIX}/contacts/{results[0].id}", status_code=303)
    return page(request, "contacts.html", user, q=q, results=results, searched=bool(q))


def timeline_of(s: Session, contact_id: int, settings: Settings, now: datetime) -> dict[str, Any] | None:
    """Everything the contact page shows, in one unit of work; None for an unknown contact."""
    contact = s.get(Contact, contact_id)
    if contact is None:
        return None
    visitors = select(Visitor.anonymous_id).where(Visitor.contact_id == contact_id)
    events = s.exec(
        select(Event)
        .where(or_(col(Event.contact_id) == contact_id, col(Event.anonymous_id).in_(visitors)))
        .order_by(col(Event.occurred_at).desc(), col(Event.id).desc())
    ).all()
    touches = s.exec(
        select(Touch).where(Touch.contact_id == contact_id).order_by(col(Touch.created_at).desc()).limit(TIMELINE_LIMIT)
    ).all()
    enrollments = s.exec(select(Enrollment).where(Enrollment.contact_id == contact_id)).all()
    recorded = s.exec(
        select(Score).where(Score.contact_id == contact_id).order_by(col(Score.scored_at).desc()).limit(20)
    ).all()
    engagement = [Engagement(e.kind, e.occurred_at, e.url, e.machine) for e in events]
    scores = {n.journey: scoring_for(n.journey).score(engagement, now) for n in enrollments}
    moments = [
        Moment(t.created_at, "touch", f"drop {t.status}", f"{t.step}: {t.item_id} ({t.reason})", t.journey)
        for t in touches
    ] + [
        Moment(e.occurred_at, "event", e.kind, e.url or e.item_id or e.source, e.journey, e.machine)
        for e in events[:TIMELINE_LIMIT]
    ]
    moments.sort(key=lambda m: m.at, reverse=True)
    return {
        "contact": contact,
        "moments": moments[:TIMELINE_LIMIT],
        "enrollments": [(n, temporal_link(settings, n.workflow_id)) for n in enrollments],
        "scores": scores,
        "recorded": recorded,
        "consent": [e for e in events if e.kind in CONSENT_KINDS],
    }


@router.get("/contacts/{contact_id}", response_class=HTMLResponse)
async def timeline(
    request: Request,
    contact_id: int = Path(ge=1, le=2**63 - 1),
    user: store.SignedIn = Depends(signed_in),
) -> HTMLResponse:
    settings, now = ctx_of(request).settings, utcnow()
    found = await db(request, lambda s: timeline_of(s, contact_id, settings, now))
    if found is None:
        raise ApiError(404, f"no contact {contact_id}")
    return page(request, "contact.html", user, **found)
