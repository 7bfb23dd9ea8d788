"""Topics chosen in the preference center reach the journey and its `NurtureTopics`, which broadcast audiences
select on: the new topics are searchable at once, the old ones no longer are."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment

from nurture import search_attributes, temporal_names
from tests.workflows.fakes import Recorder
from tests.workflows.scenario import running_worker, start_journey
from workflows.payloads import ExitRequest, PreferenceChange

B2B = {"persona": "finance-lead", "time_zone": "Europe/Berlin", "topics": ["compliance"]}


async def topics_of(handle: object) -> list[str] | None:
    described = await handle.describe()  # type: ignore[attr-defined]
    return described.typed_search_attributes.get(search_attributes.SA_TOPICS)  # type: ignore[no-any-return]


async def test_a_topics_change_upserts_nurture_topics(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env, rec = time_skipping_env, Recorder(scores=[10.0])
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handle = await start_journey(env, task_queue, "b2b_drip", 331, **B2B)
        await env.sleep(timedelta(days=1))
        assert await topics_of(handle) == ["compliance"]
        await handle.signal(temporal_names.SIGNAL_PREFERENCES, PreferenceChange(331, topics=["automation", "ap"]))
        await env.sleep(timedelta(hours=1))
        assert await topics_of(handle) == ["automation", "ap"]
        await handle.signal(temporal_names.SIGNAL_PREFERENCES, PreferenceChange(331, frequency="weekly"))
        await env.sleep(timedelta(hours=1))
        assert await topics_of(handle) == ["automation", "ap"]  # only a topics change touches them
        await handle.signal(temporal_names.SIGNAL_EXIT, ExitRequest(reason="manual"))
        await handle.result()
