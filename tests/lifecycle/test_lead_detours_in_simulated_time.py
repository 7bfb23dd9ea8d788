"""The shipped b2b_drip's detours with the real lifecycle activities on SQLite and PostgreSQL, in simulated time:
sales rejects the MQL and the lead is recycled into nurture; an ignored handoff misses its SLA twice, is
re-routed to the next owner, then recycled as "SLA missed". Each move is a stored stage event."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from nurture.db.tables import HANDOFF, OWNER
from nurture.inbound.sales import record_verdict
from nurture.lifecycle.routing import OwnerSpec, upsert_owner
from nurture.lifecycle.stages import stage_history
from tests.lifecycle.helpers import STRONG, add_contact, unique_contact_id
from tests.workflows.scenario import (
    LifecycleRecorder,
    relay_to,
    running_worker,
    start_journey,
    until_phase,
    visit_page,
)

B2B = {"persona": "finance-lead", "time_zone": "Europe/London", "topics": ["compliance"]}


async def _handed_off(
    env: WorkflowEnvironment, task_queue: str, engine: Engine, email: str
) -> tuple[int, WorkflowHandle[Any, Any]]:
    now = await env.get_current_time()
    with engine.begin() as conn:
        cid = add_contact(conn, email, at=now, contact_id=unique_contact_id(), **STRONG)
        for key in ("amy", "bob"):
            upsert_owner(conn, OwnerSpec(key, "emea", time_zone="Europe/London"), now)
    drip = await start_journey(env, task_queue, "b2b_drip", cid, **B2B)
    await env.sleep(timedelta(days=3))
    await visit_page(env, drip, engine, cid, "https://x.example/pricing")
    await until_phase(env, drip, "with_sales", timedelta(minutes=10))
    return cid, drip


@pytest.mark.slow
async def test_sales_rejects_the_mql_and_the_lead_is_recycled_into_nurture(
    time_skipping_env: WorkflowEnvironment, task_queue: str, engine: Engine
) -> None:
    env, rec = time_skipping_env, LifecycleRecorder(engine=engine)
    async with running_worker(env, task_queue, engine, rec):
        cid, drip = await _handed_off(env, task_queue, engine, "no-budget@example.com")
        with engine.begin() as conn:
            handoff = conn.execute(select(HANDOFF.c.id).where(HANDOFF.c.contact_id == cid)).scalar_one()
            assert record_verdict(conn, handoff, False, "budget next year", await env.get_current_time()).queued
        assert len((await relay_to(env, task_queue, engine).deliver_pending()).delivered) == 1
        cooling = await until_phase(env, drip, "cooling_down", timedelta(minutes=10))
    with engine.connect() as conn:
        moves = [(h.from_stage, h.to_stage, h.actor_kind, h.why) for h in stage_history(conn, cid)][1:]
    assert moves[0][:3] == ("subscriber", "mql", "journey_step")
    assert moves[1:] == [("mql", "recycled", "sales_verdict", "budget next year")]
    assert cooling.why == "budget next year"


@pytest.mark.slow
async def test_an_ignored_handoff_misses_the_sla_twice_is_re_routed_then_recycled(
    time_skipping_env: WorkflowEnvironment, task_queue: str, engine: Engine
) -> None:
    env, rec = time_skipping_env, LifecycleRecorder(engine=engine)
    async with running_worker(env, task_queue, engine, rec):
        cid, drip = await _handed_off(env, task_queue, engine, "ignored@example.com")
        with engine.connect() as conn:
            first_owner = conn.execute(
                select(OWNER.c.key).join(HANDOFF, HANDOFF.c.owner_id == OWNER.c.id).where(HANDOFF.c.contact_id == cid)
            ).scalar_one()
        recycled = await until_phase(env, drip, "cooling_down", timedelta(hours=6), most=40)
        with engine.connect() as conn:
            owner_now = conn.execute(
                select(OWNER.c.key).join(HANDOFF, HANDOFF.c.owner_id == OWNER.c.id).where(HANDOFF.c.contact_id == cid)
            ).scalar_one()
            history = stage_history(conn, cid)
    moves = [(h.from_stage, h.to_stage, h.actor_kind) for h in history][1:]
    assert moves == [
        ("subscriber", "mql", "journey_step"),
        ("mql", "mql", "journey_step"),  # each escalation is a stage event (actor: the SLA of the handoff)
        ("mql", "mql", "journey_step"),
        ("mql", "recycled", "journey_step"),
    ], moves
    first, second = history[2], history[3]
    assert "re-routed to" in first.why and "recycling" in second.why
    assert second.at - first.at >= timedelta(hours=8), "one business day between the misses"
    assert owner_now != first_owner, "the first miss re-routed the lead to the other owner"
    assert history[-1].why == "SLA missed" and recycled.why == "SLA missed"
