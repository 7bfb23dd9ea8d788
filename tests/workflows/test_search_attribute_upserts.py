"""Search attributes ops filter on stay true, and the journey upserts them only when one of them changes."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from nurture import search_attributes, temporal_names
from tests.workflows.fakes import Recorder
from tests.workflows.scenario import running_worker, start_journey
from workflows.payloads import BroadcastNotice, ExitRequest, PageView

B2B = {"persona": "finance-lead", "time_zone": "Europe/Berlin", "topics": ["compliance"]}
FILTERED_ON = {
    search_attributes.SA_STAGE.name,
    search_attributes.SA_LEAD_SCORE.name,
    search_attributes.SA_DROPS_SENT.name,
    search_attributes.SA_PHASE.name,
}


async def test_every_upsert_changes_what_ops_filter_on_and_the_last_values_are_true(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env, rec = time_skipping_env, Recorder(scores=[30.0])  # below the threshold: the journey keeps nurturing
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handle = await start_journey(env, task_queue, "b2b_drip", 301, **B2B)
        await env.sleep(timedelta(days=16))
        await handle.signal(
            temporal_names.SIGNAL_PAGE_VIEW,
            PageView("pv-301", "https://x.example/pricing", await env.get_current_time()),
        )
        await env.sleep(timedelta(days=30))
        await handle.signal(temporal_names.SIGNAL_EXIT, ExitRequest(reason="unsubscribe"))
        result = await handle.result()
        history = await handle.fetch_history()

    drops = len(rec.sent(301))
    assert drops >= 3 and rec.scored, "the scenario must send several drops and check readiness"
    upserts = [
        {
            name: json.loads(p.data) if p.data else None  # an unset attribute has no data
            for name, p in e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields.items()
            if name != "TemporalChangeVersion"  # the SDK's record of a workflow.patched() marker
        }
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
    ]
    upserts = [fields for fields in upserts if fields]
    assert upserts, "the journey must publish its progress"
    next_drop = None
    for fields in upserts:
        moved = fields.get(search_attributes.SA_NEXT_DROP_AT.name)
        if not fields.keys() & FILTERED_ON:  # only the next wake-up: allowed to bring it forward, never back
            assert moved is not None and (next_drop is None or moved < next_drop), f"needless upsert: {fields}"
        next_drop = moved or next_drop
    drop_counts = [
        f[search_attributes.SA_DROPS_SENT.name] for f in upserts if search_attributes.SA_DROPS_SENT.name in f
    ]
    assert drop_counts == list(range(1, drops + 1)), "one upsert per drop, counting up"
    scores = [f[search_attributes.SA_LEAD_SCORE.name] for f in upserts if search_attributes.SA_LEAD_SCORE.name in f]
    assert scores == [30.0]
    # Every upsert after a drop says when the journey plans to wake up next.
    assert all(
        f.get(search_attributes.SA_NEXT_DROP_AT.name) for f in upserts if search_attributes.SA_DROPS_SENT.name in f
    )
    # Ending costs no upsert (runtime version 4): the closed execution's status says it ended, and its result
    # holds what the journey last knew.
    assert all(f.get(search_attributes.SA_PHASE.name) in (*search_attributes.RUNNING_PHASES, None) for f in upserts)
    assert (result.lead_score, result.drops_sent) == (30.0, drops)
    stages = [f[search_attributes.SA_STAGE.name] for f in upserts if search_attributes.SA_STAGE.name in f]
    assert result.stage == (stages[-1] if stages else "awareness")


async def test_an_event_that_brings_the_next_drop_forward_moves_next_drop_at_at_once(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env, rec = time_skipping_env, Recorder(scores=[10.0])
    b2c = {"persona": "homeowner", "time_zone": "Europe/London", "topics": ["mowers"]}
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handle = await start_journey(env, task_queue, "b2c_cultivation", 302, **b2c)
        await env.sleep(timedelta(days=3))  # first drop sent: waiting two weeks for interest
        assert len(rec.sent(302)) == 1
        waiting = (await handle.describe()).typed_search_attributes.get(search_attributes.SA_NEXT_DROP_AT)
        now = await env.get_current_time()
        await handle.signal(
            temporal_names.SIGNAL_PAGE_VIEW, PageView("pv-302", "https://greenacre.example/mowers/x2", now)
        )
        await env.sleep(timedelta(hours=2))  # heard it: "do not pounce" for a day, then comparison content
        forward = (await handle.describe()).typed_search_attributes.get(search_attributes.SA_NEXT_DROP_AT)
        await env.sleep(timedelta(days=2))
        sends = rec.sent(302)
        await handle.signal(temporal_names.SIGNAL_EXIT, ExitRequest(reason="unsubscribe"))
        await handle.result()

    assert waiting is not None and forward is not None
    assert forward < waiting - timedelta(days=7), "the comparison drop comes long before the two-week mark"
    assert len(sends) == 2
    assert forward <= sends[1].now, "NurtureNextDropAt never promises a drop later than it comes"


async def _drops_shown(handle: object) -> int | None:
    desc = await handle.describe()  # type: ignore[attr-defined]
    return desc.typed_search_attributes.get(search_attributes.SA_DROPS_SENT)


@pytest.mark.parametrize("version", [3, 5])
async def test_a_broadcast_drops_count_rides_along_with_the_next_upsert_from_runtime_version_5(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine, version: int
) -> None:
    """From runtime version 5 a broadcast drop costs no NurtureDropsSent upsert of its own: the count lags until
    the journey's next upsert (here its next scheduled drop), which carries the true count. Version 3 journeys
    keep upserting it at once, as their histories say."""
    env, rec = time_skipping_env, Recorder(scores=[30.0])
    contact = 310 + version
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handle = await start_journey(env, task_queue, "b2b_drip", contact, runtime_version=version, **B2B)
        await env.sleep(timedelta(days=3))  # the first drop went out; waiting two weeks for interest
        assert len(rec.sent(contact)) == 1 and await _drops_shown(handle) == 1
        notice = BroadcastNotice("einv", "regulation", "bc-einvoicing-2027", ["compliance"])
        await handle.signal(temporal_names.SIGNAL_BROADCAST, notice)
        await env.sleep(timedelta(days=3))  # deferred by the fake's gap at first, then dropped; the wait goes on
        assert [d.item_id for d in rec.sent(contact)][-1] == "bc-einvoicing-2027", "the broadcast must be dropped"
        after_broadcast = await _drops_shown(handle)
        await env.sleep(timedelta(days=20))  # the wait timed out: the next scheduled drop
        sent = len(rec.sent(contact))
        after_next = await _drops_shown(handle)
        await handle.signal(temporal_names.SIGNAL_EXIT, ExitRequest(reason="unsubscribe"))
        await handle.result()

    assert after_broadcast == (1 if version >= 5 else 2)
    assert sent >= 3 and after_next == sent, "the next upsert carries the true count, broadcast drops included"
