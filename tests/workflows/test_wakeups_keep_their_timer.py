"""A signal that wakes a waiting journey without answering its wait costs no timer cancel and restart."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from nurture import temporal_names
from tests.workflows.fakes import Recorder
from tests.workflows.scenario import running_worker, start_journey
from workflows.payloads import EngagementEvent, ExitRequest, PageView

B2B = {"persona": "finance-lead", "time_zone": "Europe/Berlin", "topics": ["compliance"]}


async def test_unmatched_signals_keep_the_pending_wait_timer_and_a_match_stops_it(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env, rec = time_skipping_env, Recorder()
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handle = await start_journey(env, task_queue, "b2b_drip", 401, **B2B)
        await env.sleep(timedelta(days=5))  # first drop sent; waiting two weeks for a pricing visit or a click
        assert len(rec.sent(401)) == 1
        for n in range(3):  # page views the wait does not match: the journey wakes, records them, naps again
            now = await env.get_current_time()
            await handle.signal(
                temporal_names.SIGNAL_PAGE_VIEW, PageView(f"pv-blog-{n}", f"https://x.example/blog/{n}", now)
            )
            await env.sleep(timedelta(hours=1))
        quiet = await handle.fetch_history()
        await handle.signal(
            temporal_names.SIGNAL_ENGAGEMENT,
            EngagementEvent("click-1", "clicked", await env.get_current_time(), item_id=rec.sent(401)[0].item_id),
        )
        await env.sleep(timedelta(hours=1))
        answered = await handle.fetch_history()
        await handle.signal(temporal_names.SIGNAL_EXIT, ExitRequest(reason="unsubscribe"))
        await handle.result()

    def count(history: object, kind: EventType.ValueType) -> int:
        return sum(1 for e in history.events if e.event_type == kind)  # type: ignore[attr-defined]

    signals = count(quiet, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
    assert signals == 3
    assert count(quiet, EventType.EVENT_TYPE_TIMER_CANCELED) == 0, "a wake-up that answers nothing keeps the timer"
    started_before = count(quiet, EventType.EVENT_TYPE_TIMER_STARTED)
    # The click answers the wait: its two-week timer is cancelled rather than left to wake the journey later.
    assert count(answered, EventType.EVENT_TYPE_TIMER_CANCELED) == 1
    assert count(answered, EventType.EVENT_TYPE_TIMER_STARTED) >= started_before
