"""The journey in definitions/README.md, taken as written, loads and runs: a new author following the guide gets a
journey that drops, hears a pricing visit, hands off and ends as a customer, in simulated time."""

from __future__ import annotations

import asyncio
import re
import types
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment

from nurture import temporal_names
from tests.workflows.fakes import Recorder
from tests.workflows.scenario import running_worker, start_journey
from workflows import dsl
from workflows.payloads import PageView, SalesFeedback

GUIDE = Path(__file__).resolve().parents[2] / "definitions" / "README.md"


def _first_python_block() -> str:
    found = re.search(r"```python\n(.*?)```", GUIDE.read_text(), re.S)
    assert found, "the guide shows a journey"
    return found.group(1)


async def test_the_guides_journey_runs_as_written(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    module = types.ModuleType("definitions.welcome_series")
    try:
        exec(compile(_first_python_block(), str(GUIDE), "exec"), module.__dict__)
        spec = dsl.REGISTRY["welcome_series"]
        assert dsl.journeys_for("trial-user", []) == ["welcome_series"], "its entry rule is live"
        assert spec.stage_for(20) == "consideration" and spec.scoring.half_life == timedelta(days=14)
        env, rec = time_skipping_env, Recorder(scores=[50.0])
        async with running_worker(env, task_queue, sqlite_engine, rec):
            handle = await start_journey(env, task_queue, "welcome_series", 7001, persona="trial-user")
            await env.sleep(timedelta(days=3))
            assert len(rec.sent(7001)) == 1, "a first drop"
            view = PageView("pv-guide", "https://ledgerline.example/pricing", await env.get_current_time())
            await handle.signal(temporal_names.SIGNAL_PAGE_VIEW, view)
            await asyncio.wait_for(rec.handoff_started.wait(), timeout=30)
            await handle.signal(temporal_names.SIGNAL_SALES_FEEDBACK, SalesFeedback(True, "trial converted"))
            result = await handle.result()
        assert result.outcome == "customer"
        assert len(rec.scored) == 1 and len(rec.handoffs) == 1
    finally:
        dsl.REGISTRY.pop("welcome_series", None)
        dsl.CATALOGS.pop("welcome_series", None)
