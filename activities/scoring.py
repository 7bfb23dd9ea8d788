"""Scoring a contact: stored events -> the journey's `ScoringRules` -> a Score row and an explanation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from nurture.db import Contact, Event, Score, Visitor
from nurture.db.engine import session_scope
from nurture.lifecycle.leads import readiness_of, refresh_lead
from nurture.logging import get_logger
from workflows import dsl
from workflows.lead_rules import MqlRule, rule_for
from workflows.payloads import ScoreContribution, ScoreInput, ScoreResult

log = get_logger(__name__)

TOP_CONTRIBUTIONS = 5


def stage_for(journey: str, score: float) -> str:
    """The journey's own stage thresholds (`JourneySpec.stage_for`), or the defaults for unknown journeys."""
    spec = dsl.REGISTRY.get(journey)
    return spec.stage_for(score) if spec is not None else dsl.stage_for(score)


def contact_events(s: Session, contact_id: int, since: datetime, until: datetime) -> list[Event]:
    """The contact's events in [since, until], including those from before they identified themselves."""
    visitors = select(Visitor.anonymous_id).where(Visitor.contact_id == contact_id)
    return list(
        s.exec(
            select(Event)
            .where(
                or_(col(Event.contact_id) == contact_id, col(Event.anonymous_id).in_(visitors.scalar_subquery())),
                col(Event.occurred_at) >= since,
                col(Event.occurred_at) <= until,
            )
            .order_by(col(Event.occurred_at))
        ).all()
    )


def score_contact_events(s: Session, contact_id: int, journey: str, now: datetime) -> dsl.Scored:
    rules = dsl.scoring_for(journey)
    events = contact_events(s, contact_id, now - rules.horizon, now)
    return rules.score((dsl.Engagement(e.kind, e.occurred_at, e.url, e.machine) for e in events), now)


class Scorer:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def score(self, inp: ScoreInput) -> ScoreResult:
        with session_scope(self._engine) as s:
            scored = score_contact_events(s, inp.contact_id, inp.journey, inp.now)
            stage = stage_for(inp.journey, scored.score)
            explanation = [{"kind": c.label, "points": c.points, "count": c.count} for c in scored.contributions]
            readiness, rule = None, rule_for(inp.journey)
            if s.get(Contact, inp.contact_id) is not None:  # an erased contact scores 0 and leaves no row
                refresh_lead(s.connection(), inp.contact_id, inp.now)  # the ranked list follows behaviour
                if inp.fit:  # grade the contact; the journey's MQL rule decides if it has one
                    conn, mql = s.connection(), rule or MqlRule()
                    readiness, _, _ = readiness_of(conn, inp.contact_id, inp.now, inp.journey, mql)
                s.add(
                    Score(
                        contact_id=inp.contact_id,
                        journey=inp.journey,
                        score=scored.score,
                        stage=stage,
                        explanation=explanation,
                        scored_at=inp.now,
                    )
                )
        log.info("contact.scored", contact_id=inp.contact_id, journey=inp.journey, score=scored.score, stage=stage)
        top = [ScoreContribution(c.label, c.points, c.count) for c in scored.contributions[:TOP_CONTRIBUTIONS]]
        if readiness is None:
            return ScoreResult(score=scored.score, stage=stage, top=top)
        grade = readiness.grade.letter
        if rule is None:  # graded only: the score against the threshold decides
            return ScoreResult(score=scored.score, stage=stage, top=top, grade=grade)
        return ScoreResult(scored.score, stage, top, ready=readiness.ready, ready_why=readiness.why, grade=grade)
