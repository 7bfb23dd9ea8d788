"""The B2C cultivation journey over a year: advice drops, comparison content on product interest, launch news
as an unscheduled drop when relevant, and the minimum gap holding for broadcasts."""

from __future__ import annotations

import itertools
from datetime import timedelta

from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment

from nurture import temporal_names
from tests.workflows.fakes import Recorder, local
from tests.workflows.scenario import running_worker, start_journey
from workflows.payloads import BroadcastNotice, ExitRequest, JourneyStatus, PageView

HOMEOWNER = {"persona": "homeowner", "time_zone": "Europe/London", "topics": ["mowers", "lawn-care"]}


async def test_a_year_of_lawn_advice_in_the_contacts_send_window(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env, rec = time_skipping_env, Recorder(scores=[5.0])
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handle = await start_journey(env, task_queue, "b2c_cultivation", 401, **HOMEOWNER)
        await env.sleep(timedelta(days=365))
        result = await handle.result()
    sends = rec.sent(401)
    assert result.outcome == "completed"
    assert [s.item_id for s in sends[:5]] == [
        "b2c-autumn-lawn", "b2c-mowing-height", "b2c-feeding-calendar", "b2c-reading-your-lawn", "b2c-drought-proofing",
    ], "lawn-care advice comes first"  # fmt: skip
    assert len(sends) == 11 and len({s.item_id for s in sends}) == 11
    for s in sends:
        t = local(s.now, "Europe/London")
        assert 8 <= t.hour < 20, t
    gaps = [b.now - a.now for a, b in itertools.pairwise(sends)]
    assert all(timedelta(days=13) <= g <= timedelta(days=15) for g in gaps), gaps


async def test_product_page_view_brings_comparison_content_a_day_later(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env, rec = time_skipping_env, Recorder(scores=[55.0])
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handle = await start_journey(env, task_queue, "b2c_cultivation", 402, **HOMEOWNER)
        await env.sleep(timedelta(days=4))
        viewed = await env.get_current_time()
        await handle.signal(
            temporal_names.SIGNAL_PAGE_VIEW, PageView("pv-m", "https://greenacre.example/mowers/verdant-900", viewed)
        )
        await env.sleep(timedelta(days=3))
        status: JourneyStatus = await handle.query(temporal_names.QUERY_STATUS, result_type=JourneyStatus)
        sends = rec.sent(402)
        assert [s.item_id for s in sends] == ["b2c-autumn-lawn", "b2c-mower-types"]
        assert sends[1].now - viewed >= timedelta(days=1), "comparison content waits a day: no pouncing"
        assert len(rec.scored) == 1 and len(rec.handoffs) == 1, "comparison + high score -> lawn visit handoff"
        assert status.phase == "with_sales"


async def test_relevant_launch_is_an_unscheduled_drop_and_irrelevant_news_is_skipped(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env, rec = time_skipping_env, Recorder(scores=[5.0])
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handle = await start_journey(env, task_queue, "b2c_cultivation", 403, **HOMEOWNER)
        await env.sleep(timedelta(days=5))  # first drop went out on day 0: the 3-day gap has passed
        await handle.signal(
            temporal_names.SIGNAL_BROADCAST,
            BroadcastNotice("launch-x2", "product_launch", "bc-verdant-x2-launch", ["mowers"]),
        )
        await handle.signal(
            temporal_names.SIGNAL_BROADCAST, BroadcastNotice("einv", "regulation", "bc-einvoicing-2027", ["compliance"])
        )
        # At-least-once delivery of the same broadcast must not act twice.
        await handle.signal(
            temporal_names.SIGNAL_BROADCAST,
            BroadcastNotice("launch-x2", "product_launch", "bc-verdant-x2-launch", ["mowers"]),
        )
        await env.sleep(timedelta(hours=2))
        outcomes = {o.broadcast_id: (o.outcome, o.reason) for o in rec.broadcast_outcomes}
        assert outcomes["launch-x2"][0] == "dropped"
        assert outcomes["einv"] == ("skipped", "not garden news")
        assert len(rec.broadcast_outcomes) == 2
        sends = rec.sent(403)
        assert [s.item_id for s in sends] == ["b2c-autumn-lawn", "bc-verdant-x2-launch"]
        assert sends[1].broadcast_id == "launch-x2"
        await env.sleep(timedelta(days=10))
        sends = rec.sent(403)
        # The launch also answered the storyboard's wait (PRODUCT_LAUNCHED(topic="mowers")): comparison content follows,
        # held back until the minimum gap since the launch drop has passed; then the regular rhythm resumes.
        assert [s.item_id for s in sends[2:]] == ["b2c-mower-types", "b2c-mowing-height"]
        gaps = [b.now - a.now for a, b in itertools.pairwise(sends)]
        assert all(g >= timedelta(days=3) for g in gaps), gaps


async def test_broadcast_too_soon_after_a_drop_is_deferred_not_lost(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env, rec = time_skipping_env, Recorder(scores=[5.0])
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handle = await start_journey(env, task_queue, "b2c_cultivation", 404, **HOMEOWNER)
        await env.sleep(timedelta(days=1))  # the first drop went out within the last day
        await handle.signal(
            temporal_names.SIGNAL_BROADCAST, BroadcastNotice("ban", "regulation", "bc-hosepipe-ban", ["lawn-care"])
        )
        await env.sleep(timedelta(hours=1))
        assert [o.outcome for o in rec.broadcast_outcomes] == ["deferred"]
        assert len(rec.sent(404)) == 1
        await env.sleep(timedelta(days=3))
        sends = rec.sent(404)
        assert [s.item_id for s in sends] == ["b2c-autumn-lawn", "bc-hosepipe-ban"]
        assert sends[1].now - sends[0].now >= timedelta(days=3)
        assert [o.outcome for o in rec.broadcast_outcomes] == ["deferred", "dropped"]


async def test_a_journey_that_ends_reports_its_unhandled_broadcasts_as_skipped(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env, rec = time_skipping_env, Recorder(scores=[5.0])
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handle = await start_journey(env, task_queue, "b2c_cultivation", 405, **HOMEOWNER)
        await env.sleep(timedelta(days=1))
        # Deferred by the minimum gap, then the contact leaves: the broadcast must still hear back.
        await handle.signal(
            temporal_names.SIGNAL_BROADCAST, BroadcastNotice("ban", "regulation", "bc-hosepipe-ban", ["lawn-care"])
        )
        await env.sleep(timedelta(hours=1))
        await handle.signal(temporal_names.SIGNAL_EXIT, ExitRequest("unsubscribe"))
        assert (await handle.result()).outcome == "unsubscribe"
    assert [(o.outcome, o.reason) for o in rec.broadcast_outcomes][-1] == ("skipped", "journey ended: unsubscribe")
    assert [o.outcome for o in rec.broadcast_outcomes][0] == "deferred"
    assert len(rec.sent(405)) == 1
