"""The lifecycle stage a handoff moves the contact to comes back to the journey, and `status` shows the stage."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rich.console import Console
from sqlalchemy.engine import Engine

from nurture import filters
from nurture.cli.status import lifecycle_table
from nurture.lifecycle.stages import move_stage
from nurture.lifecycle.status import lifecycle_summary
from tests.activities.helpers import T0, add_contact, outbox_activities
from tests.activities.test_handoff import handoff_input
from workflows.lifecycle import ActorKind


def test_the_handoff_result_names_the_stage_the_contact_is_in(engine: Engine) -> None:
    cid = add_contact(engine)
    with outbox_activities(engine) as acts:
        result = acts.hand_off_to_sales(handoff_input(cid))
    assert result.lifecycle_stage == "mql"


def test_status_shows_stage_and_time_in_stage(engine: Engine) -> None:
    cid = add_contact(engine)
    with engine.begin() as conn:
        move_stage(conn, cid, "lead", actor=ActorKind.OPERATOR, actor_id="ops", why="met at a fair", now=T0)
    summary = lifecycle_summary(engine, cid, T0 + timedelta(days=2))
    assert summary is not None
    screen = Console(width=200, record=True)
    screen.print(lifecycle_table(cid, summary).render())
    shown = screen.export_text()
    assert "Lead (lead)" in shown and "2.0 days" in shown


def test_an_unknown_lifecycle_stage_is_refused_naming_the_known_ones() -> None:
    filters.check_lifecycle_stages(["mql", "advocate"])
    with pytest.raises(filters.InvalidFilterError, match=r"unknown lifecycle stages \['hot'\].*subscriber"):
        filters.check_lifecycle_stages(["hot"])
