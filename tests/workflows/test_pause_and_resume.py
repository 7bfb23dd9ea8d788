"""Bulk control in the journey: a paused journey sends nothing, keeps hearing events, and resumes where it was."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment

from nurture import temporal_names
from tests.workflows.fakes import Recorder
from tests.workflows.scenario import running_worker, start_journey
from workflows.payloads import BroadcastNotice, ExitRequest, JourneyStatus, PageView, PauseRequest

B2B = {"persona": "finance-lead", "time_zone": "Europe/Berlin", "topics": ["compliance"]}


async def test_a_paused_journey_is_silent_hears_events_and_resumes_where_it_was(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env, rec = time_skipping_env, Recorder()
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handle = await start_journey(env, task_queue, "b2b_drip", 611, **B2B)
        await env.sleep(timedelta(days=3))
        assert len(rec.sent(611)) == 1
        await handle.signal(temporal_names.SIGNAL_PAUSE_JOURNEY, PauseRequest(operation_id=7))
        await env.sleep(timedelta(days=60))  # four more drops would have gone out
        assert len(rec.sent(611)) == 1, "a paused journey sends nothing"
        now = await env.get_current_time()
        await handle.signal(temporal_names.SIGNAL_PAGE_VIEW, PageView("pv-paused", "https://x.example/blog", now))
        await env.sleep(timedelta(hours=1))
        status: JourneyStatus = await handle.query(temporal_names.QUERY_STATUS, result_type=JourneyStatus)
        assert status.signals_received == 1 and "paused" in status.last_decision
        await handle.signal(temporal_names.SIGNAL_RESUME_JOURNEY, PauseRequest(operation_id=8))
        await env.sleep(timedelta(days=4))
        sent = rec.sent(611)
        assert len(sent) == 2, "resumed: the drop it was about to send goes out"
        await handle.signal(temporal_names.SIGNAL_EXIT, ExitRequest(reason="manual"))
        result = await handle.result()
    assert result.outcome == "manual" and result.drops_sent == 2


async def test_a_paused_journey_still_ends_on_exit(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env, rec = time_skipping_env, Recorder()
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handle = await start_journey(env, task_queue, "b2b_drip", 612, **B2B)
        await env.sleep(timedelta(days=3))
        await handle.signal(temporal_names.SIGNAL_PAUSE_JOURNEY, PauseRequest())
        await env.sleep(timedelta(days=20))
        await handle.signal(temporal_names.SIGNAL_EXIT, ExitRequest(reason="unsubscribe"))
        result = await handle.result()
    assert result.outcome == "unsubscribe" and len(rec.sent(612)) == 1


async def test_preference_topics_reach_the_running_journey(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    """Enrolled for compliance, the contact now only wants automation: a compliance broadcast is not for it."""
    env, rec = time_skipping_env, Recorder()
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handle = await start_journey(env, task_queue, "b2b_drip", 613, **B2B)
        await env.sleep(timedelta(days=4))
        # the payload as nurture.inbound.preferences writes it and the relay delivers it
        await handle.signal(temporal_names.SIGNAL_PREFERENCES, {"contact_id": 613, "topics": ["automation"]})
        await handle.signal(
            temporal_names.SIGNAL_BROADCAST, BroadcastNotice("bc-einv", "regulation", "b2b-einvoicing-primer")
        )
        await env.sleep(timedelta(hours=2))
        await handle.signal(temporal_names.SIGNAL_EXIT, ExitRequest(reason="manual"))
        await handle.result()
    [outcome] = rec.broadcast_outcomes
    assert outcome.outcome == "skipped" and "compliance" in outcome.reason
