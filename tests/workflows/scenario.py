"""Helpers for journey scenarios in simulated time."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.engine import Engine
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from nurture import temporal_names, workflow_ids
from nurture.config import Settings
from nurture.journey_client import initial_search_attributes
from tests.workflows.fakes import Recorder
from workers.journey_worker import build_worker
from workflows.payloads import RUNTIME_VERSION, JourneyInput, JourneyResult

_started: list[str] = []


@contextlib.asynccontextmanager
async def running_worker(
    env: WorkflowEnvironment, task_queue: str, engine: Engine, rec: Recorder
) -> AsyncIterator[None]:
    """A worker with the recorder's activities. Journeys started inside are terminated on the way out: a journey
    left running with no worker would hold a workflow task open and stop the shared time-skipping server from
    skipping time for later tests."""
    mark = len(_started)
    try:
        async with build_worker(env.client, Settings(), engine, activities=rec.activities(), task_queue=task_queue):
            yield
    finally:
        for workflow_id in _started[mark:]:
            with contextlib.suppress(Exception):
                await env.client.get_workflow_handle(workflow_id).terminate("test over")
        del _started[mark:]


async def start_journey(
    env: WorkflowEnvironment, task_queue: str, journey: str, contact_id: int, **fields: Any
) -> WorkflowHandle[Any, JourneyResult]:
    """Start a journey; the handle follows the workflow id across continue-as-new (no run id pinned), and its
    `result()` lets the time-skipping server skip time, like handles from `start_workflow` do."""
    fields.setdefault("runtime_version", RUNTIME_VERSION)  # as `nurture.journey_client.journey_input` starts them
    inp = JourneyInput(journey=journey, contact_id=contact_id, **fields)
    workflow_id = workflow_ids.journey_workflow_id(journey, contact_id)
    await env.client.start_workflow(
        temporal_names.JOURNEY_WORKFLOW,
        inp,
        id=workflow_id,
        task_queue=task_queue,
        search_attributes=initial_search_attributes(inp),  # as `nurture.journey_client.enroll` starts them
    )
    _started.append(workflow_id)
    return _FollowingHandle(env, env.client.get_workflow_handle(workflow_id, result_type=JourneyResult))


class _FollowingHandle(WorkflowHandle[Any, JourneyResult]):
    def __init__(self, env: WorkflowEnvironment, inner: WorkflowHandle[Any, JourneyResult]) -> None:
        super().__init__(inner._client, inner.id, result_type=JourneyResult)
        self._env = env

    async def result(self, **kwargs: Any) -> JourneyResult:
        if self._env.supports_time_skipping_v1:
            async with self._env.time_skipping_unlocked():  # type: ignore[attr-defined]
                return await super().result(**kwargs)
        return await super().result(**kwargs)
