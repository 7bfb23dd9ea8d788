"""`j.drop(priority=...)` reaches the drop claim, so a higher-priority drop goes first when caps hold several."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import Recorder
from tests.workflows.scenario import running_worker, start_journey
from workflows import dsl

KEY = "tests_priority_drip"


async def priority_drip(j: dsl.Journey) -> None:
    await j.drop("sales asked for this one", priority=dsl.Priority.SALES)


async def test_the_declared_priority_is_in_the_send_drop_input(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env, rec = time_skipping_env, Recorder()
    catalog = dsl.Catalog((dsl.ContentItem(id="tp-1", subject="s", body="b"),))
    dsl.journey(KEY, catalog=catalog, threshold=100, send_window=None)(priority_drip)  # this test's only
    try:
        async with running_worker(env, task_queue, sqlite_engine, rec):
            handle = await start_journey(env, task_queue, KEY, 621, persona="general")
            await env.sleep(timedelta(days=1))
            await handle.result()
    finally:
        dsl.REGISTRY.pop(KEY, None)
        dsl.CATALOGS.pop(KEY, None)
    [sent] = rec.sent(621)
    assert sent.priority == dsl.Priority.SALES
