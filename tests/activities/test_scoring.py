"""Lead scoring: decay, what counts, the explanation, and the stored Score row on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import select

from nurture.db import Score, Visitor
from nurture.db.engine import session_scope
from tests.activities.helpers import DAY, T0, add_contact, add_event, outbox_activities
from workflows.dsl import Engagement, ScoringRules
from workflows.payloads import ScoreContribution, ScoreInput

RULES = ScoringRules()


def test_engagement_halves_every_half_life() -> None:
    pricing = "https://ledgerline.example/pricing?plan=team"
    fresh = RULES.score([Engagement("page_view", T0, pricing)], T0)
    month_old = RULES.score([Engagement("page_view", T0 - 30 * DAY, pricing)], T0)
    two_months = RULES.score([Engagement("page_view", T0 - 60 * DAY, pricing)], T0)
    assert (fresh.score, month_old.score, two_months.score) == (15.0, 7.5, 3.75)


def test_weights_by_kind_and_page_machine_opens_and_future_events_count_nothing() -> None:
    events = [
        Engagement("page_view", T0, "https://ledgerline.example/pricing"),
        Engagement("page_view", T0, "https://greenacre.example/mowers/verdant-900"),
        Engagement("page_view", T0, "https://ledgerline.example/blog/close"),
        Engagement("clicked", T0, "https://ledgerline.example/guide"),
        Engagement("clicked", T0, "https://ledgerline.example/guide"),
        Engagement("opened", T0),
        Engagement("opened", T0, machine=True),
        Engagement("form_fill", T0, "https://ledgerline.example/demo"),
        Engagement("bounce", T0),
        Engagement("clicked", T0 + timedelta(seconds=1)),  # after "now": not yet happened
        Engagement("clicked", T0 - 400 * DAY),  # beyond the horizon
    ]
    scored = RULES.score(events, T0)
    assert scored.score == 15 + 8 + 2 + 2 * 5 + 1 + 10
    assert [(c.label, c.points, c.count) for c in scored.contributions] == [
        ("pricing page", 15.0, 1),
        ("clicked", 10.0, 2),
        ("form_fill", 10.0, 1),
        ("product page", 8.0, 1),
        ("page_view", 2.0, 1),
        ("opened", 1.0, 1),
    ]


def test_score_contact_stores_the_score_with_stage_and_explanation(engine: Engine) -> None:
    cid = add_contact(engine)
    with session_scope(engine) as s:  # visits before they gave an email count too
        s.add(Visitor(anonymous_id="anon-1", contact_id=cid, first_seen_at=T0 - 40 * DAY))
    add_event(engine, None, "page_view", T0 - 30 * DAY, url="https://ledgerline.example/pricing", anonymous_id="anon-1")
    add_event(engine, cid, "page_view", T0 - DAY, url="https://ledgerline.example/pricing")
    add_event(engine, cid, "clicked", T0 - 2 * DAY, url="https://ledgerline.example/guide")
    add_event(engine, cid, "opened", T0 - 2 * DAY, machine=True)
    add_event(engine, cid, "clicked", T0 + DAY, url="https://ledgerline.example/later")
    other = add_contact(engine, "bob@example.com")
    add_event(engine, other, "form_fill", T0 - DAY)

    with outbox_activities(engine) as acts:
        result = acts.score_contact(ScoreInput(cid, "b2b_drip", T0))

    decay = RULES.decay
    expected = round(15 * decay(30 * DAY) + 15 * decay(DAY) + 5 * decay(2 * DAY), 2)
    assert result.score == expected
    assert 20 <= result.score < 45
    assert result.stage == "consideration"  # b2b_drip's thresholds: 20 consideration, 45 decision
    assert result.top == [
        ScoreContribution("pricing page", round(15 * decay(30 * DAY) + 15 * decay(DAY), 2), 2),
        ScoreContribution("clicked", round(5 * decay(2 * DAY), 2), 1),
    ]
    assert result.explain().startswith(f"score {result.score:.1f} (pricing page x2")
    with session_scope(engine) as s:
        [row] = s.exec(select(Score)).all()
    assert (row.contact_id, row.journey, row.score, row.stage, row.scored_at) == (
        cid,
        "b2b_drip",
        result.score,
        "consideration",
        T0,
    )
    assert row.explanation[0] == {"kind": "pricing page", "points": result.top[0].points, "count": 2}


def test_no_engagement_scores_zero_at_awareness(engine: Engine) -> None:
    cid = add_contact(engine)
    with outbox_activities(engine) as acts:
        result = acts.score_contact(ScoreInput(cid, "b2c_cultivation", T0))
    assert (result.score, result.stage, result.top) == (0.0, "awareness", [])
    assert result.explain() == "score 0.0 (no engagement yet)"
