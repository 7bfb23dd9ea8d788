"""Continue-as-new carries every bit of state: a journey that rolls over many times behaves exactly like one that
never does, and no signal is lost across the rollover."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment

from nurture import keys
from tests.workflows.fakes import Recorder
from tests.workflows.scenario import running_worker, start_journey
from workflows.payloads import EngagementEvent, JourneyStatus, PageView

B2B = {"persona": "it-lead", "time_zone": "Asia/Tokyo", "topics": ["security"]}


async def _play(env: WorkflowEnvironment, task_queue: str, engine: Engine, contact_id: int, history_limit: int):
    rec = Recorder(scores=[10.0])
    async with running_worker(env, task_queue, engine, rec):
        handle = await start_journey(env, task_queue, "b2b_drip", contact_id, history_limit=history_limit, **B2B)
        for week in range(16):  # 8 of the 10 it-lead items go out meanwhile
            print("play", contact_id, "week", week, flush=True)
            await env.sleep(timedelta(days=7))
            now = await env.get_current_time()
            # Page views every week (noise), a click on odd weeks: the waits must hear them across rollovers.
            for n in range(5):
                await handle.signal(keys.SIGNAL_PAGE_VIEW, PageView(f"pv-{week}-{n}", f"https://x.example/blog/{n}", now))
            if week % 2:
                await handle.signal(keys.SIGNAL_ENGAGEMENT, EngagementEvent(f"ck-{week}", "clicked", now))
        status: JourneyStatus = await handle.query(keys.QUERY_STATUS, result_type=JourneyStatus)
        result = await handle.result()
    return rec, status, result


async def test_rollover_journey_matches_uninterrupted_one(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    plain, plain_status, plain_result = await _play(time_skipping_env, task_queue, sqlite_engine, 301, 0)
    rolled, rolled_status, rolled_result = await _play(time_skipping_env, task_queue + "-b", sqlite_engine, 302, 60)
    assert plain_status.run == 1
    assert rolled_status.run > 3, "the limit must have forced several continue-as-new rollovers"
    assert [s.item_id for s in rolled.sends] == [s.item_id for s in plain.sends]
    start_plain, start_rolled = plain.sends[0].now, rolled.sends[0].now
    offsets_rolled = [s.now - start_rolled for s in rolled.sends]
    offsets_plain = [s.now - start_plain for s in plain.sends]
    assert len(offsets_rolled) == len(offsets_plain)
    assert all(abs(a - b) < timedelta(minutes=1) for a, b in zip(offsets_rolled, offsets_plain, strict=True))
    assert len(rolled.scored) == len(plain.scored) > 0
    assert rolled_result.items == plain_result.items
    assert rolled_result.drops_sent == plain_result.drops_sent == len(plain.sends)
