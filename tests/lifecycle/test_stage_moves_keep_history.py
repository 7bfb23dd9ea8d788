"""Stage moves: one writer, forward-only for journeys, back moves need a reason, every change a history row."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from definitions.leads.stages import STAGES
from nurture.lifecycle.stages import UnknownContactError, move_stage, stage_history, stage_status
from tests.lifecycle.helpers import T0, add_contact
from workflows.lifecycle import ActorKind, MoveKind, StageModel


def test_model_allows_forward_for_journeys_and_back_only_with_a_reason() -> None:
    assert STAGES.judge("lead", "mql", ActorKind.JOURNEY, "").allowed
    assert STAGES.judge("mql", "recycled", ActorKind.JOURNEY, "").kind is MoveKind.SIDE
    back = STAGES.judge("sal", "mql", ActorKind.JOURNEY, "score fell")
    assert not back.allowed and "only go forward" in back.why
    assert STAGES.judge("recycled", "mql", ActorKind.JOURNEY, "").allowed  # nurture may qualify it again
    assert not STAGES.judge("disqualified", "mql", ActorKind.JOURNEY, "").allowed  # that detour needs a person
    assert not STAGES.judge("customer", "lead", ActorKind.SALES, " ").allowed
    assert STAGES.judge("customer", "lead", ActorKind.OPERATOR, "refund").allowed
    with pytest.raises(ValueError, match="unknown stage"):
        STAGES.check("prospect")


def test_a_team_can_rename_and_add_stages() -> None:
    mine = StageModel(line=("subscriber", "lead", "trial", "customer"), labels=(("lead", "Prospect"),))
    assert mine.label("lead") == "Prospect"
    assert mine.judge("lead", "trial", ActorKind.JOURNEY, "").allowed
    with pytest.raises(ValueError, match="unique"):
        StageModel(line=("a", "a"))


def test_history_from_opt_in_to_advocate_with_actors_and_reasons(engine: Engine) -> None:
    with engine.begin() as conn:
        cid = add_contact(conn, "ada@example.com")
        steps = [
            ("lead", ActorKind.JOURNEY, "journey/b2b_drip/contact-1", "clicked a drop"),
            ("mql", ActorKind.JOURNEY, "journey/b2b_drip/contact-1", "ready: grade B+, score 52"),
            ("sal", ActorKind.SALES, "handoff-1", "accepted: call booked"),
            ("customer", ActorKind.IMPORT, "orders.csv", "order A-1"),
            ("advocate", ActorKind.JOURNEY, "journey/customer/contact-1", "left a review"),
        ]
        for i, (to, actor, actor_id, why) in enumerate(steps, start=1):
            moved = move_stage(conn, cid, to, actor=actor, actor_id=actor_id, why=why, now=T0 + timedelta(days=i))
            assert moved.moved, moved
    with engine.begin() as conn:
        history = stage_history(conn, cid)
        status = stage_status(conn, cid, T0 + timedelta(days=7))
    assert [(h.from_stage, h.to_stage) for h in history] == [
        (None, "subscriber"),
        ("subscriber", "lead"),
        ("lead", "mql"),
        ("mql", "sal"),
        ("sal", "customer"),
        ("customer", "advocate"),
    ]
    assert history[0].at == T0 and history[0].actor_kind == "opt_in" and "test form" in history[0].why
    assert history[3].actor_kind == "sales_verdict" and history[3].actor_id == "handoff-1"
    assert status is not None and status.stage == "advocate" and status.time_in_stage == timedelta(days=2)


def test_refused_moves_change_nothing(engine: Engine) -> None:
    with engine.begin() as conn:
        cid = add_contact(conn, "lin@example.com")
        move_stage(conn, cid, "sal", actor=ActorKind.SALES, actor_id="h1", why="accepted", now=T0)
        refused = move_stage(conn, cid, "mql", actor=ActorKind.JOURNEY, actor_id="wf", why="", now=T0)
        same = move_stage(conn, cid, "sal", actor=ActorKind.SALES, actor_id="h1", why="again", now=T0)
        back = move_stage(conn, cid, "recycled", actor=ActorKind.SALES, actor_id="h1", why="not now", now=T0)
        nameless = move_stage(conn, cid, "lead", actor=ActorKind.OPERATOR, actor_id="ops", why="", now=T0)
    assert not refused.moved and not same.moved and back.moved and not nameless.moved
    with engine.begin() as conn:
        assert [h.to_stage for h in stage_history(conn, cid)] == ["subscriber", "sal", "recycled"]
        with pytest.raises(UnknownContactError):
            move_stage(conn, 999, "lead", actor=ActorKind.IMPORT, actor_id="x", why="y", now=T0)
