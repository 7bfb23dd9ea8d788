"""b2b_drip asks for a phone call when a lead is nearly ready; how the call went decides what the journey does."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment

from nurture import temporal_names
from tests.workflows.fakes import Recorder
from tests.workflows.scenario import running_worker, start_journey
from workflows.payloads import JourneyStatus, PageView
from workflows.task_payloads import CallOutcomeReport

B2B = {"persona": "finance-lead", "time_zone": "Europe/Berlin", "topics": ["compliance"]}
NEARLY = 40.0  # under the threshold (45), over NEARLY_READY (36)


async def _nearly_ready_lead_asks_for_a_call(env: WorkflowEnvironment, rec: Recorder, handle: object) -> None:
    await env.sleep(timedelta(days=3))
    now = await env.get_current_time()
    await handle.signal(temporal_names.SIGNAL_PAGE_VIEW, PageView("pv-c", "https://x.example/pricing", now))  # type: ignore[attr-defined]
    for _ in range(100):
        if rec.call_tasks:
            break
        await asyncio.sleep(0.05)
    assert len(rec.call_tasks) == 1, "a nearly-ready lead gets a call, not a handoff"
    assert not rec.handoffs


async def test_interested_on_the_phone_hands_the_lead_to_sales(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env, rec = time_skipping_env, Recorder(scores=[NEARLY])
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handle = await start_journey(env, task_queue, "b2b_drip", 501, **B2B)
        await _nearly_ready_lead_asks_for_a_call(env, rec, handle)
        await handle.signal(temporal_names.SIGNAL_CALL_OUTCOME, CallOutcomeReport(101, "reached_interested", "demo"))
        await env.sleep(timedelta(hours=1))
        status: JourneyStatus = await handle.query(temporal_names.QUERY_STATUS, result_type=JourneyStatus)
    assert len(rec.handoffs) == 1 and "interested on the phone" in rec.handoffs[0].reason
    assert status.phase == "with_sales"
    assert not rec.closed_calls, "an answered call is not closed as timed out"


async def test_no_outcome_in_a_week_times_out_and_keeps_the_rhythm(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env, rec = time_skipping_env, Recorder(scores=[NEARLY])
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handle = await start_journey(env, task_queue, "b2b_drip", 502, **B2B)
        await _nearly_ready_lead_asks_for_a_call(env, rec, handle)
        await handle.signal(temporal_names.SIGNAL_CALL_OUTCOME, CallOutcomeReport(999, "reached_interested"))
        await env.sleep(timedelta(days=8))
        status: JourneyStatus = await handle.query(temporal_names.QUERY_STATUS, result_type=JourneyStatus)
    assert not rec.handoffs, "an outcome naming another task never counts; a timed-out call hands nothing off"
    assert len(rec.closed_calls) == 1 and rec.closed_calls[0].task_id == 101
    assert status.phase == "nurturing"
    assert status.last_decision == "call: timed_out" and status.why == "no outcome within 1w"
