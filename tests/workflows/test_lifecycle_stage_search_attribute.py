"""A journey step that moves the contact's lifecycle stage shows it as NurtureLifecycleStage, for ops to filter on."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment

from nurture import search_attributes, temporal_names
from nurture.cli.listing import JourneyFilter
from tests.workflows.fakes import Recorder
from tests.workflows.scenario import running_worker, start_journey
from workflows.payloads import PageView

B2B = {"persona": "finance-lead", "time_zone": "Europe/Berlin", "topics": ["compliance"]}


async def test_a_handoff_upserts_the_lifecycle_stage_it_moved_the_contact_to(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env, rec = time_skipping_env, Recorder(scores=[60.0], handoff_stage="mql")
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handle = await start_journey(env, task_queue, "b2b_drip", 401, **B2B)
        await env.sleep(timedelta(days=3))
        before = (await handle.describe()).typed_search_attributes.get(search_attributes.SA_LIFECYCLE_STAGE)
        assert before is None, "no journey step has moved the stage yet"
        now = await env.get_current_time()
        await handle.signal(temporal_names.SIGNAL_PAGE_VIEW, PageView("pv-401", "https://x.example/pricing", now))
        await env.sleep(timedelta(hours=1))
        assert len(rec.handoffs) == 1
        shown = (await handle.describe()).typed_search_attributes.get(search_attributes.SA_LIFECYCLE_STAGE)
    assert shown == "mql"


def test_journeys_filters_on_the_lifecycle_stage() -> None:
    query = JourneyFilter(None, None, None, None, running=True, lifecycle="mql").query()
    assert "NurtureLifecycleStage = 'mql'" in query
    assert "NurtureLifecycleStage" not in JourneyFilter(None, None, None, None, running=True).query()
