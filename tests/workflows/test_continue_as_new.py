"""Continue-as-new carries every bit of state: a journey that rolls over many times behaves like one that never
does, and no signal is lost across the rollovers.

Runs on the real dev server with compressed time (one week = half a second): the Java time-skipping server
rejects a continue-as-new completion when signals race the workflow task ("invalid history builder state"),
which the real server handles by retrying the task.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy.engine import Engine
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from nurture import temporal_names
from tests.workflows.fakes import Recorder
from tests.workflows.scenario import running_worker, start_journey
from workflows.payloads import EngagementEvent, JourneyResult, JourneyStatus, PageView

B2B = {"persona": "it-lead", "time_zone": "Asia/Tokyo", "topics": ["security"]}
WEEK_SECONDS = 0.5
SCALE = timedelta(weeks=1).total_seconds() / WEEK_SECONDS
WEEKS = 14


async def _play(
    env: WorkflowEnvironment, rec: Recorder, contact_id: int, history_limit: int, task_queue: str
) -> tuple[JourneyStatus, JourneyResult, int]:
    handle = await start_journey(
        env, task_queue, "b2b_drip", contact_id, history_limit=history_limit, time_scale=SCALE, **B2B
    )
    sent = 0
    for week in range(WEEKS):
        await asyncio.sleep(WEEK_SECONDS)
        now = await env.get_current_time()
        # Page views every week (noise) and a click on odd weeks: waits must hear them across rollovers.
        # On busy cores the signals take real time and the journey (on journey time) may finish first: a
        # signal to a completed journey ends the stream, and both journeys are compared on what each heard.
        try:
            for n in range(5):
                await handle.signal(
                    temporal_names.SIGNAL_PAGE_VIEW, PageView(f"pv-{week}-{n}", f"https://x.example/blog/{n}", now)
                )
                sent += 1
            if week % 2:
                await handle.signal(temporal_names.SIGNAL_ENGAGEMENT, EngagementEvent(f"ck-{week}", "clicked", now))
                sent += 1
            # A duplicate delivery (same event id) must count once.
            await handle.signal(
                temporal_names.SIGNAL_PAGE_VIEW, PageView(f"pv-{week}-0", "https://x.example/blog/0", now)
            )
        except RPCError as err:
            if "already completed" not in str(err):
                raise
            break
    result = await asyncio.wait_for(handle.result(), 60)
    status: JourneyStatus = await handle.query(temporal_names.QUERY_STATUS, result_type=JourneyStatus)  # the last run
    return status, result, sent


async def test_rollover_journey_matches_uninterrupted_one(
    dev_server_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    rec = Recorder(scores=[10.0])
    async with running_worker(dev_server_env, task_queue, sqlite_engine, rec):
        (plain_status, plain, sent_a), (rolled_status, rolled, sent_b) = await asyncio.gather(
            _play(dev_server_env, rec, 301, 0, task_queue), _play(dev_server_env, rec, 302, 60, task_queue)
        )
    assert plain_status.run == 1
    assert rolled_status.run > 3, "the history limit must have forced several continue-as-new rollovers"
    assert rolled_status.signals_received == sent_b, "no signal lost across rollovers, duplicates counted once"
    assert plain_status.signals_received == sent_a
    assert rolled.items == plain.items
    assert len(rolled.items) == len(set(rolled.items)) == 10
    assert [s.item_id for s in rec.sent(302)] == [s.item_id for s in rec.sent(301)]
    assert len([s for s in rec.scored if s.contact_id == 302]) == len([s for s in rec.scored if s.contact_id == 301])
