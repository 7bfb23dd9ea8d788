"""Handing a lead to sales: an idempotent Handoff row with what a rep needs, pushed to the CRM webhook.

The CRM request is signed so the CRM can trust it: `X-Nurture-Signature: sha256=<hex HMAC-SHA256 of the raw
body with NURTURE_CRM_WEBHOOK_SECRET>`. `X-Nurture-Timestamp` (unix seconds) repeats the body's signed
`sent_at`, so a receiver can refuse stale replays; `Idempotency-Key` is stable across retries.
The CRM gets the contact's details (it is the CRM); the activity result carries ids only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from temporalio.exceptions import ApplicationError

from activities.scoring import contact_events, score_contact_events
from nurture.clock import utcnow
from nurture.config import Settings
from nurture.db import Contact, Handoff, HandoffStatus, Touch, TouchStatus
from nurture.db.engine import session_scope
from nurture.db.tables import LEAD
from nurture.lifecycle.leads import refresh_lead
from nurture.lifecycle.routing import Assignment, assign_owner, owner_card
from nurture.lifecycle.sla import handoff_deadline
from nurture.lifecycle.stages import move_stage
from nurture.logging import get_logger
from nurture.verdicts import UnknownHandoffError, VerdictRefusedError, record_no_feedback, take_verdict
from workflows.dsl import find_item
from workflows.lead_rules import handoff_stages
from workflows.lifecycle import ActorKind
from workflows.payloads import HandoffInput, HandoffResult, SalesFeedbackInput

log = get_logger(__name__)

RECENT_EVENTS = 10
ENGAGEMENT_WINDOW = timedelta(days=365)
RETRYABLE_CRM_STATUSES = frozenset({408, 425, 429})


def sign_body(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class SalesHandoff:
    def __init__(self, settings: Settings, engine: Engine, http: httpx.Client) -> None:
        if settings.crm_webhook_url and settings.crm_webhook_secret is None:
            raise ValueError("NURTURE_CRM_WEBHOOK_SECRET is required when NURTURE_CRM_WEBHOOK_URL is set")
        self._url = settings.crm_webhook_url
        self._secret = settings.crm_webhook_secret.get_secret_value() if settings.crm_webhook_secret else ""
        self._engine = engine
        self._http = http

    def hand_off(self, inp: HandoffInput) -> HandoffResult:
        result = self._hand_off(inp)
        with self._engine.connect() as conn:  # the SLA clock runs from the handoff, in its owner's business hours
            deadline = handoff_deadline(conn, result.handoff_id, inp.journey, inp.now) if inp.sla else None
            stage = conn.execute(select(LEAD.c.stage).where(LEAD.c.contact_id == inp.contact_id)).scalar()
        return replace(result, sla_deadline=deadline, lifecycle_stage=stage)

    def _hand_off(self, inp: HandoffInput) -> HandoffResult:
        handoff = self._record(inp)
        assert handoff.id is not None
        if handoff.status != HandoffStatus.PENDING:
            return HandoffResult(handoff.id, delivered=True, detail=f"already {handoff.status}")
        if not self._url:
            log.info("handoff.recorded", handoff_id=handoff.id, contact_id=inp.contact_id, crm="none")
            return HandoffResult(handoff.id, delivered=False, detail="recorded; no CRM webhook configured")
        return self._deliver(handoff, inp)

    def record_feedback(self, inp: SalesFeedbackInput) -> dict[str, str] | None:
        """Record what the journey heard. For "no feedback in time" the write is conditional: if the CRM's verdict
        reached the row first (`POST /handoffs/{id}/feedback`), that verdict is returned and the journey acts on
        it instead of recycling a lead sales has just answered."""
        if inp.accepted is None:
            try:
                with self._engine.begin() as conn:
                    won = record_no_feedback(conn, inp.handoff_id, inp.reason, inp.now)
                    if won is None:
                        recycle_unanswered(conn, inp)
            except UnknownHandoffError:
                log.warning("handoff.feedback_unknown", handoff_id=inp.handoff_id)
                return None
            if won is not None:
                log.info("handoff.feedback_arrived_at_timeout", handoff_id=inp.handoff_id, verdict=won.status)
                return won.as_payload()
            log.info("handoff.feedback", handoff_id=inp.handoff_id, verdict="none")
            return None
        try:
            with self._engine.begin() as conn:
                take_verdict(conn, inp.handoff_id, inp.accepted, inp.reason, inp.now)
        except UnknownHandoffError:
            log.warning("handoff.feedback_unknown", handoff_id=inp.handoff_id)
            return None
        except VerdictRefusedError as refused:  # the row keeps the first verdict; the journey acts on what it heard
            log.warning("handoff.feedback_not_recorded", handoff_id=inp.handoff_id, why=str(refused))
            return None
        log.info("handoff.feedback", handoff_id=inp.handoff_id, verdict="accepted" if inp.accepted else "rejected")
        return None

    # ---- the row ---------------------------------------------------------------------------------------

    def _record(self, inp: HandoffInput) -> Handoff:
        key = f"{inp.workflow_id}:handoff:{inp.attempt}"
        for _ in range(2):
            try:
                with session_scope(self._engine) as s:
                    existing = s.exec(select(Handoff).where(Handoff.idempotency_key == key)).first()
                    if existing is not None:
                        return existing
                    owner = route_lead(s, inp)
                    handoff = Handoff(
                        idempotency_key=key,
                        contact_id=inp.contact_id,
                        journey=inp.journey,
                        workflow_id=inp.workflow_id,
                        score=inp.score,
                        reason=inp.reason[:500],
                        context=build_context(s, inp) | {"owner": owner_card(s.connection(), owner.owner_id)},
                        owner_id=owner.owner_id,
                        created_at=inp.now,
                    )
                    s.add(handoff)
                    s.flush()
                    return handoff
            except IntegrityError:  # a concurrent attempt inserted it first: read theirs
                continue
        raise ApplicationError(f"could not record handoff {key}")

    # ---- the CRM ---------------------------------------------------------------------------------------

    def _deliver(self, handoff: Handoff, inp: HandoffInput) -> HandoffResult:
        assert handoff.id is not None
        assert self._url
        sent_at = utcnow()
        payload = {
            "handoff_id": handoff.id,
            "idempotency_key": handoff.idempotency_key,
            "journey": handoff.journey,
            "workflow_id": handoff.workflow_id,
            "score": handoff.score,
            "reason": handoff.reason,
            "created_at": handoff.created_at.isoformat(),
            "sent_at": sent_at.isoformat(),
            "context": handoff.context,
            "owner": handoff.context.get("owner"),  # the routed rep (None: nobody was available)
        }
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Nurture-Signature": sign_body(self._secret, body),
            "X-Nurture-Timestamp": str(int(sent_at.timestamp())),
            "Idempotency-Key": handoff.idempotency_key,
        }
        ids = {"handoff_id": handoff.id, "contact_id": inp.contact_id}
        try:
            response = self._http.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as err:
            self._note(handoff.id, f"unreachable: {type(err).__name__}", delivered=False, inp=inp)
            log.warning("handoff.crm_unreachable", error=type(err).__name__, **ids)
            raise ApplicationError(f"CRM unreachable: {type(err).__name__}", type="CrmUnavailable") from err
        note = f"HTTP {response.status_code}: {response.text[:400]}"
        if response.is_success:
            self._note(handoff.id, note, delivered=True, inp=inp)
            log.info("handoff.delivered", status=response.status_code, **ids)
            return HandoffResult(handoff.id, delivered=True, detail=f"CRM answered {response.status_code}")
        self._note(handoff.id, note, delivered=False, inp=inp)
        if response.status_code >= 500 or response.status_code in RETRYABLE_CRM_STATUSES:
            log.warning("handoff.crm_unavailable", status=response.status_code, **ids)
            raise ApplicationError(f"CRM answered {response.status_code}", type="CrmUnavailable")
        log.error("handoff.crm_refused", status=response.status_code, **ids)
        return HandoffResult(handoff.id, delivered=False, detail=f"CRM refused it ({response.status_code})")

    def _note(self, handoff_id: int, crm_response: str, *, delivered: bool, inp: HandoffInput) -> None:
        with session_scope(self._engine) as s:
            handoff = s.get(Handoff, handoff_id)
            if handoff is None:
                return
            handoff.crm_response = crm_response[:500]
            if delivered and handoff.status == HandoffStatus.PENDING:
                handoff.status = HandoffStatus.DELIVERED
                handoff.delivered_at = inp.now


def recycle_unanswered(conn: Connection, inp: SalesFeedbackInput) -> None:
    """Sales never answered: the journey takes the lead back (a journey step onto the recycled detour)."""
    contact_id = conn.execute(select(Handoff.contact_id).where(Handoff.id == inp.handoff_id)).scalar_one()
    actor_id, recycled = f"handoff-{inp.handoff_id}", handoff_stages().recycled
    move_stage(conn, contact_id, recycled, actor=ActorKind.JOURNEY, actor_id=actor_id, why=inp.reason, now=inp.now)


def route_lead(s: Session, inp: HandoffInput) -> Assignment:
    """The lead becomes an MQL (a journey step: forward only) and gets an owner by the routing rules."""
    conn = s.connection()
    if s.get(Contact, inp.contact_id) is None:
        raise ApplicationError(f"contact {inp.contact_id} does not exist", non_retryable=True)
    qualified = handoff_stages().qualified
    moved = move_stage(
        conn, inp.contact_id, qualified, actor=ActorKind.JOURNEY, actor_id=inp.workflow_id, why=inp.reason, now=inp.now
    )
    assignment = assign_owner(conn, inp.contact_id, inp.now)
    refresh_lead(conn, inp.contact_id, inp.now)
    log.info("handoff.routed", contact_id=inp.contact_id, owner=assignment.owner, stage_moved=moved.moved)
    return assignment


def build_context(s: Session, inp: HandoffInput) -> dict[str, Any]:
    """What a rep reads before calling: who, what they engaged with lately, what we sent, why the score."""
    contact = s.get(Contact, inp.contact_id)
    if contact is None:
        raise ApplicationError(f"contact {inp.contact_id} does not exist", non_retryable=True)
    events = [e for e in contact_events(s, inp.contact_id, inp.now - ENGAGEMENT_WINDOW, inp.now) if not e.machine]
    recent = events[-RECENT_EVENTS:][::-1]
    touches = s.exec(
        select(Touch)
        .where(
            Touch.contact_id == inp.contact_id,
            col(Touch.status).in_((TouchStatus.SENT, TouchStatus.UNCONFIRMED)),
        )
        .order_by(col(Touch.sent_at))
    ).all()
    scored = score_contact_events(s, inp.contact_id, inp.journey, inp.now)
    return {
        "contact": {
            "id": contact.id,
            "email": contact.email,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "company": contact.company,
            "persona": contact.persona,
            "time_zone": contact.time_zone,
            "topics": list(contact.topics),
            "consent_source": contact.consent_source,
        },
        "why": inp.reason,
        "score": {
            "value": inp.score,
            "explanation": [{"kind": c.label, "points": c.points, "count": c.count} for c in scored.contributions],
        },
        "recent_engagement": [
            _summarise(e.kind, e.url, e.item_id, e.topic) | {"at": e.occurred_at.isoformat()} for e in recent
        ],
        "engagement_counts": dict(Counter(e.kind for e in events)),
        "touches": [
            {
                "item_id": t.item_id,
                "subject": item.subject if (item := find_item(t.item_id)) else None,
                "journey": t.journey,
                "status": t.status,
                "sent_at": t.sent_at.isoformat() if t.sent_at else None,
                "why": t.reason,
            }
            for t in touches
        ],
    }


def _summarise(kind: str, url: str | None, item_id: str | None, topic: str | None) -> dict[str, Any]:
    what = {
        "opened": f"opened {item_id or 'an email'}",
        "clicked": f"clicked {url or item_id or 'a link'}",
        "page_view": f"viewed {url or 'a page'}",
        "form_fill": f"filled in a form{f' on {url}' if url else ''}",
    }.get(kind, kind)
    return {"kind": kind, "summary": what + (f" (topic {topic})" if topic else ""), "url": url, "item_id": item_id}
