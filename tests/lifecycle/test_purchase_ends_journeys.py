"""A purchase mid-journey ends it at once and moves the contact into the customer journey: an imported order
queues a goal exit and an enrollment that the real outbox relay delivers, in simulated time; the customer then
gets onboarding, loyalty drops and, engaged enough, the advocacy ask, and acting on it is recorded."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from temporalio import activity
from temporalio.testing import WorkflowEnvironment

from activities.email import OutboxSender
from activities.journey import JourneyActivities
from nurture import temporal_names
from nurture.config import Settings
from nurture.context import AppContext
from nurture.db.tables import ENROLLMENT
from nurture.lifecycle.imports import import_file
from nurture.lifecycle.stages import stage_history
from nurture.outbound.relay import OutboxRelay
from nurture.workflow_ids import journey_workflow_id
from tests.lifecycle.helpers import T0, add_contact
from tests.workflows.fakes import Recorder
from tests.workflows.scenario import running_worker, start_journey
from workflows.payloads import JourneyResult, PageView, ReachStageInput

B2B = {"persona": "finance-lead", "time_zone": "Europe/Berlin", "topics": ["compliance"]}


@dataclass
class StageRecorder(Recorder):
    """The recorder's fakes plus the real `reach_stage` activity on the test's database."""

    engine: Engine | None = None

    def activities(self) -> list[object]:
        assert self.engine is not None
        real = JourneyActivities(Settings(_env_file=None), self.engine, OutboxSender(self.engine), httpx.Client())  # type: ignore[call-arg]

        @activity.defn(name=temporal_names.ACTIVITY_REACH_STAGE)
        async def reach_stage(inp: ReachStageInput) -> bool:
            return await asyncio.to_thread(real.reach_stage, inp)

        return [*super().activities(), reach_stage]


async def test_an_imported_order_ends_the_running_journey_at_once(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env, rec = time_skipping_env, StageRecorder(scores=[30.0], engine=sqlite_engine)
    with sqlite_engine.begin() as conn:
        cid = add_contact(conn, "buyer@example.com")
        conn.execute(
            insert(ENROLLMENT).values(
                contact_id=cid, journey="b2b_drip", workflow_id=journey_workflow_id("b2b_drip", cid), enrolled_at=T0
            )
        )
    relay = OutboxRelay(AppContext(Settings(_env_file=None, task_queue=task_queue), sqlite_engine, env.client))  # type: ignore[call-arg]
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handle = await start_journey(env, task_queue, "b2b_drip", cid, **B2B)
        care = env.client.get_workflow_handle(journey_workflow_id("customer_care", cid), result_type=JourneyResult)
        try:
            await env.sleep(timedelta(days=20))  # inside the second two-week wait
            sent = len(rec.sent(cid))
            before = await env.get_current_time()
            orders = f"order_id,email,amount,ordered_at\nW-9,buyer@example.com,500,{before.date().isoformat()}\n"
            with sqlite_engine.begin() as conn:
                assert import_file(conn, "orders", orders, name="shop.csv", now=before).journeys_ended == 1
            done = await relay.deliver_pending()
            assert len(done.delivered) == 2  # the goal exit, then the customer journey's enrollment
            result = await handle.result()
            assert result.outcome == "goal_reached"
            assert rec.ends[0].now - before < timedelta(hours=1), "the goal must not wait for the pending timer"
            assert len([s for s in rec.sent(cid) if s.journey == "b2b_drip"]) == sent

            await env.sleep(timedelta(days=45))  # onboarding (two, a week apart) and the first loyalty drops
            items = [s.item_id for s in rec.sent(cid) if s.journey == "customer_care"]
            assert items[:3] == ["cc-welcome", "cc-first-close", "cc-approval-rules"]
            assert "cc-refer" in items, "engaged (score 30 >= 20): the advocacy ask follows a loyalty drop"
            now = await env.get_current_time()
            await care.signal(temporal_names.SIGNAL_PAGE_VIEW, PageView("pv-ref", "https://x.example/refer", now))
            cared = await care.result()
        finally:
            with contextlib.suppress(Exception):
                await care.terminate("test over")
    assert cared.outcome == "completed" and cared.items[-1] == "cc-refer"
    [care_end] = [e for e in rec.ends if e.journey == "customer_care"]
    assert care_end.now - now < timedelta(hours=1), "acting on the ask ends the wait at once (not three weeks)"
    with sqlite_engine.begin() as conn:
        history = stage_history(conn, cid)
    assert [(h.to_stage, h.actor_kind) for h in history] == [
        ("subscriber", "opt_in"),
        ("customer", "import"),
        ("advocate", "journey_step"),
    ]
    assert history[-1].why == "acted on the advocacy ask: https://x.example/refer"
