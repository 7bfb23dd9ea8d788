"""The B2B drip walked through a year of a prospect's life in simulated time."""

from __future__ import annotations

import itertools
from datetime import timedelta

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from nurture import temporal_names, workflow_ids
from tests.workflows.fakes import Recorder, local
from workers.journey_worker import build_worker
from workflows.payloads import JourneyInput, JourneyResult

TZ = "America/New_York"


async def start(
    env: WorkflowEnvironment, task_queue: str, contact_id: int, **kw: object
) -> WorkflowHandle[object, JourneyResult]:
    inp = JourneyInput(
        journey="b2b_drip", contact_id=contact_id, persona="finance-lead", time_zone=TZ, topics=["compliance"], **kw
    )  # type: ignore[arg-type]
    return await env.client.start_workflow(
        temporal_names.JOURNEY_WORKFLOW,
        inp,
        id=workflow_ids.journey_workflow_id("b2b_drip", contact_id),
        task_queue=task_queue,
        result_type=JourneyResult,
    )


async def test_drops_every_two_weeks_in_business_hours_until_catalog_exhausted(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine
) -> None:
    rec = Recorder(scores=[5.0])
    from nurture.config import Settings

    async with build_worker(
        time_skipping_env.client, Settings(), sqlite_engine, activities=rec.activities(), task_queue=task_queue
    ):
        handle = await start(time_skipping_env, task_queue, 101)
        result = await handle.result()
    sends = rec.sent(101)
    assert result.outcome == "completed"
    assert len(sends) == 10  # finance-lead sees every item but the two IT-only ones
    assert len({s.item_id for s in sends}) == len(sends)  # never repeats content
    for s in sends:
        t = local(s.now, TZ)
        assert t.weekday() < 5 and 9 <= t.hour < 17, t
    gaps = [(b.now - a.now) for a, b in itertools.pairwise(sends)]
    assert all(timedelta(days=13) <= g <= timedelta(days=17) for g in gaps), gaps
    assert len(rec.scored) == 3  # every third drop: gentle readiness checks
    assert (sends[-1].now - sends[0].now) > timedelta(days=120)
