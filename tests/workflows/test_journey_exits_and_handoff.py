"""Exits cancel pending waits at once; readiness leads to handoff; sales feedback ends or recycles."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from nurture import temporal_names
from tests.workflows.fakes import Recorder
from tests.workflows.scenario import running_worker, start_journey
from workflows.payloads import ExitRequest, JourneyStatus, PageView, SalesFeedback

B2B = {"persona": "finance-lead", "time_zone": "Europe/Berlin", "topics": ["compliance"]}


async def _pricing_view(env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any], event_id: str) -> None:
    """The contact looks at pricing now: b2b_drip checks readiness at once (and hands off when it is ready)."""
    view = PageView(event_id, "https://x.example/pricing", await env.get_current_time())
    await handle.signal(temporal_names.SIGNAL_PAGE_VIEW, view)


async def test_unsubscribe_mid_sleep_exits_at_once_and_sends_nothing_more(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env, rec = time_skipping_env, Recorder()
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handle = await start_journey(env, task_queue, "b2b_drip", 201, **B2B)
        await env.sleep(timedelta(days=20))  # first drop sent, now inside the second two-week wait
        assert len(rec.sent(201)) == 2
        before = await env.get_current_time()
        await handle.signal(temporal_names.SIGNAL_EXIT, ExitRequest(reason="unsubscribe"))
        result = await handle.result()
    assert result.outcome == "unsubscribe"
    assert len(rec.sent(201)) == 2
    ended_at = rec.ends[0].now  # workflow time when the journey ended
    assert ended_at - before < timedelta(hours=1), "the exit must not wait for the pending timer"
    assert [e.outcome for e in rec.ends] == ["unsubscribe"]


async def test_pricing_visit_triggers_readiness_then_handoff_and_accepted_lead_becomes_customer(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env, rec = time_skipping_env, Recorder(scores=[60.0])
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handle = await start_journey(env, task_queue, "b2b_drip", 202, **B2B)
        await env.sleep(timedelta(days=3))
        assert len(rec.sent(202)) == 1 and not rec.scored
        now = await env.get_current_time()
        await handle.signal(
            temporal_names.SIGNAL_PAGE_VIEW, PageView("pv-1", "https://ledgerline.example/pricing/teams", now)
        )
        await env.sleep(timedelta(hours=1))
        assert len(rec.scored) == 1, "a pricing visit checks readiness at once"
        assert len(rec.handoffs) == 1
        status: JourneyStatus = await handle.query(temporal_names.QUERY_STATUS, result_type=JourneyStatus)
        assert status.phase == "with_sales"
        assert status.lead_score == 60.0
        assert status.last_decision == "handed to sales"
        await handle.signal(temporal_names.SIGNAL_SALES_FEEDBACK, SalesFeedback(accepted=True, reason="demo booked"))
        result = await handle.result()
    assert result.outcome == "customer"
    assert rec.feedback[0].accepted is True
    assert len(rec.sent(202)) == 1


async def test_rejected_lead_cools_down_then_resumes_nurture_with_reason_kept(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env, rec = time_skipping_env, Recorder(scores=[60.0, 10.0])
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handle = await start_journey(env, task_queue, "b2b_drip", 203, **B2B)
        await env.sleep(timedelta(days=2))
        await _pricing_view(env, handle, "pv-2")
        await env.sleep(timedelta(hours=1))
        await asyncio.wait_for(rec.handoff_started.wait(), timeout=30)  # sales answers a lead it was handed
        await handle.signal(
            temporal_names.SIGNAL_SALES_FEEDBACK, SalesFeedback(accepted=False, reason="budget frozen until Q3")
        )
        rejected_at = await env.get_current_time()
        await env.sleep(timedelta(days=10))
        status: JourneyStatus = await handle.query(temporal_names.QUERY_STATUS, result_type=JourneyStatus)
        assert status.phase == "cooling_down"
        assert len(rec.sent(203)) == 1, "no drops while cooling down"
        await env.sleep(timedelta(days=40))
        status = await handle.query(temporal_names.QUERY_STATUS, result_type=JourneyStatus)
        assert status.phase == "nurturing"
        sends = rec.sent(203)
        assert len(sends) >= 2
        assert sends[1].now - rejected_at >= timedelta(days=30), "back to nurture only after the cool-down"
        assert rec.feedback[0].accepted is False and rec.feedback[0].reason == "budget frozen until Q3"
        await handle.signal(temporal_names.SIGNAL_EXIT, ExitRequest(reason="unsubscribe"))
        await handle.result()


async def test_feedback_that_arrives_while_the_handoff_is_in_flight_is_kept(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env, rec = time_skipping_env, Recorder(scores=[60.0, 10.0], handoff_gate=asyncio.Event())
    assert rec.handoff_gate is not None
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handle = await start_journey(env, task_queue, "b2b_drip", 205, **B2B)
        await env.sleep(timedelta(days=2))
        await _pricing_view(env, handle, "pv-5")
        await asyncio.wait_for(rec.handoff_started.wait(), timeout=30)
        # The rep answers in the CRM before the handoff activity has returned to the journey.
        await handle.signal(temporal_names.SIGNAL_SALES_FEEDBACK, SalesFeedback(accepted=False, reason="no budget"))
        rec.handoff_gate.set()
        await env.sleep(timedelta(days=1))
        status: JourneyStatus = await handle.query(temporal_names.QUERY_STATUS, result_type=JourneyStatus)
        assert status.phase == "cooling_down"
        assert [(f.accepted, f.reason) for f in rec.feedback] == [(False, "no budget")]
        await handle.signal(temporal_names.SIGNAL_EXIT, ExitRequest(reason="unsubscribe"))
        await handle.result()


async def test_no_feedback_from_sales_recycles_after_the_timeout(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env, rec = time_skipping_env, Recorder(scores=[60.0, 10.0])
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handle = await start_journey(env, task_queue, "b2b_drip", 204, **B2B)
        await env.sleep(timedelta(days=2))
        await _pricing_view(env, handle, "pv-3")
        await env.sleep(timedelta(days=20))
        assert rec.feedback and rec.feedback[0].accepted is None
        assert "no feedback from sales" in rec.feedback[0].reason
        await handle.signal(temporal_names.SIGNAL_EXIT, ExitRequest(reason="bounce"))
        assert (await handle.result()).outcome == "bounce"


async def test_a_late_answer_to_an_earlier_handoff_never_counts_for_the_current_one(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env, rec = time_skipping_env, Recorder(scores=[60.0])
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handle = await start_journey(env, task_queue, "b2b_drip", 206, **B2B)
        await env.sleep(timedelta(days=2))
        await _pricing_view(env, handle, "pv-6")
        await asyncio.wait_for(rec.handoff_started.wait(), timeout=30)
        await env.sleep(timedelta(hours=1))
        current = rec.handoffs[-1].attempt  # the fake numbers handoff ids by attempt: this one is id 1
        late = SalesFeedback(accepted=True, reason="answer to an older lead", handoff_id=current + 41)
        await handle.signal(temporal_names.SIGNAL_SALES_FEEDBACK, late)
        await env.sleep(timedelta(days=1))
        status: JourneyStatus = await handle.query(temporal_names.QUERY_STATUS, result_type=JourneyStatus)
        assert status.phase == "with_sales", "an answer naming another handoff must not end this wait"
        assert rec.feedback == []
        await handle.signal(
            temporal_names.SIGNAL_SALES_FEEDBACK, SalesFeedback(accepted=False, reason="not yet", handoff_id=current)
        )
        await env.sleep(timedelta(days=1))
        assert [(f.accepted, f.reason) for f in rec.feedback] == [(False, "not yet")]
        await handle.signal(temporal_names.SIGNAL_EXIT, ExitRequest(reason="unsubscribe"))
        await handle.result()
