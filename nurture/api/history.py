"""`GET /contacts/{id}/history`: what nurture knows of a contact (API token): consent trail, journeys, score, events.

The score is computed live with the journey's scoring rules (declared in its `@journey`), over the same events the
`score_contact` activity reads: the contact's own and those of visitors linked to it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from nurture import consent
from nurture.api.auth import has_api_token
from nurture.api.deps import in_transaction
from nurture.api.errors import ApiError
from nurture.api.params import PathId
from nurture.clock import utcnow
from nurture.db.tables import CONTACT, ENROLLMENT, EVENT, VISITOR
from workflows.dsl import Engagement, scoring_for

router = APIRouter(tags=["contacts"])


@router.get("/contacts/{contact_id}/history")
async def contact_history(
    request: Request,
    contact_id: PathId,
    limit: int = Query(default=200, ge=1, le=2000),
) -> dict[str, Any]:
    if not has_api_token(request):
        raise ApiError(401, "needs the API token (Authorization: Bearer)")
    now = utcnow()

    def read(conn: Connection) -> dict[str, Any]:
        c, e, n = CONTACT.c, EVENT.c, ENROLLMENT.c
        person = conn.execute(select(c.status, c.suppressed_reason, c.persona).where(c.id == contact_id)).one_or_none()
        if person is None:
            raise ApiError(404, f"no contact {contact_id}")
        visitors = select(VISITOR.c.anonymous_id).where(VISITOR.c.contact_id == contact_id).scalar_subquery()
        mine = or_(e.contact_id == contact_id, e.anonymous_id.in_(visitors))
        rows = conn.execute(
            select(e.id, e.kind, e.source, e.occurred_at, e.url, e.journey, e.item_id, e.machine, e.anonymous_id)
            .where(mine)
            .order_by(e.occurred_at.desc(), e.id.desc())
        ).all()
        journeys = conn.execute(
            select(n.journey, n.enrolled_at, n.ended_at, n.outcome).where(n.contact_id == contact_id)
        ).all()
        engagement = [Engagement(r.kind, r.occurred_at, r.url, r.machine) for r in rows]
        scores = {}
        for j in journeys:
            scored = scoring_for(j.journey).score(engagement, now)
            top = [{"label": x.label, "points": round(x.points, 2), "count": x.count} for x in scored.contributions]
            scores[j.journey] = {"score": round(scored.score, 2), "top": top}
        return {
            "contact_id": contact_id,
            "status": person.status,
            "suppressed_reason": person.suppressed_reason,
            "persona": person.persona,
            "consent": consent.history(conn, contact_id),  # every grant, confirmation and withdrawal, oldest first
            "journeys": [dict(j._mapping) for j in journeys],
            "score": scores,
            "events": [dict(r._mapping) for r in rows[:limit]],
        }

    return await in_transaction(request, read)
