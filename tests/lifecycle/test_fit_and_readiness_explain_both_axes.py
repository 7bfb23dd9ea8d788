"""Fit grades name the facts behind them; readiness needs fit and behaviour and explains both sides."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine

from definitions.leads.fit import DEFAULT_PROFILE, Between, Contains, FitRule, GradingProfile, OneOf
from definitions.leads.readiness import evaluate_readiness, recent_signals
from nurture.lifecycle.leads import readiness_of, refresh_lead
from tests.lifecycle.helpers import POOR, STRONG, T0, add_contact, add_event
from workflows.dsl import DEFAULT_SCORING as DEFAULT_RULES
from workflows.dsl import Contribution, Engagement


def test_grade_moves_by_each_matching_fact_and_names_it() -> None:
    strong = DEFAULT_PROFILE.grade(STRONG)
    assert strong.letter == "A+" and strong.at_least("A")
    assert {f.field for f in strong.facts} == {"role", "company_size", "industry", "country"}
    assert "decision maker (role=VP Finance, +4)" in strong.explain()
    poor = DEFAULT_PROFILE.grade(POOR)
    assert poor.letter == "D-" and not poor.at_least("C")
    assert DEFAULT_PROFILE.grade({}).letter == "D+" and "no profile facts" in DEFAULT_PROFILE.grade({}).explain()


def test_only_the_first_matching_rule_per_field_counts_and_any_field_can_grade() -> None:
    profile = GradingProfile(
        rules=(
            FitRule("role", Contains(("vp",)), 3, "vp"),
            FitRule("role", Contains(("finance",)), 3, "finance"),
            FitRule("plan", OneOf(("enterprise",)), 2, "enterprise plan"),
            FitRule("seats", Between(10, 100), 1, "team size"),
        ),
        start="C",
    )
    grade = profile.grade({"role": "VP Finance", "plan": "Enterprise", "seats": "10-20"})
    assert [f.label for f in grade.facts] == ["vp", "enterprise plan", "team size"]
    assert grade.letter == "A"


def test_high_score_with_poor_fit_is_not_ready_and_strong_fit_with_pricing_visit_is() -> None:
    top = (Contribution("clicked", 40.0, 8), Contribution("opened", 30.0, 30))
    poor = evaluate_readiness(DEFAULT_PROFILE.grade(POOR), 70.0, top, ())
    assert not poor.ready
    assert "fit below B" in poor.why and "not a buyer (role=Student" in poor.why and "clicked 40 (8x)" in poor.why
    pricing = evaluate_readiness(
        DEFAULT_PROFILE.grade(STRONG), 18.0, (Contribution("pricing page", 15, 1),), ["pricing page"]
    )
    assert pricing.ready and "recent pricing page visit" in pricing.why and "grade A+" in pricing.why
    both = evaluate_readiness(DEFAULT_PROFILE.grade({"role": "Director", "company_size": "50"}), 45.0, top, ())
    assert both.ready and both.grade.letter == "B" and "score 45 vs 45" in both.why
    assert not evaluate_readiness(DEFAULT_PROFILE.grade(STRONG), 18.0, top, ()).ready


def test_strong_signals_are_recent_and_human() -> None:
    now = T0 + timedelta(days=30)
    events = [
        Engagement("page_view", now - timedelta(days=2), "https://x.example/pricing?plan=a"),
        Engagement("page_view", now - timedelta(days=20), "https://x.example/products/a"),
        Engagement("form_fill", now - timedelta(days=20)),
        Engagement("clicked", now - timedelta(days=1), machine=True),
    ]
    assert recent_signals(events, now, DEFAULT_RULES) == ("pricing page",)


def test_readiness_and_lead_row_from_the_database(engine: Engine) -> None:
    now = T0 + timedelta(days=10)
    with engine.begin() as conn:
        cid = add_contact(conn, "ada@example.com", **STRONG)
        add_event(conn, cid, "page_view", now - timedelta(days=1), "https://x.example/pricing")
        ready, value, engaged = readiness_of(conn, cid, now)
        view = refresh_lead(conn, cid, now)
    assert ready.ready and ready.signals == ("pricing page",) and value == 0.0
    assert engaged == now - timedelta(days=1)
    assert view.grade == "A+" and view.signals == ("pricing page",) and view.readiness > 100
    assert "grade A+" in view.why and "recent pricing page" in view.why
