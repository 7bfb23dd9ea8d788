"""Helpers for journey scenarios in simulated time."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.email import OutboxSender
from activities.journey import JourneyActivities
from nurture import temporal_names, workflow_ids
from nurture.config import Settings
from nurture.context import AppContext
from nurture.db.tables import ENROLLMENT
from nurture.journey_client import initial_search_attributes
from nurture.outbound.relay import OutboxRelay
from tests.lifecycle.helpers import add_event
from tests.workflows.fakes import Recorder
from workers.journey_worker import build_worker
from workflows.payloads import RUNTIME_VERSION, EngagementEvent, JourneyInput, JourneyResult, JourneyStatus, PageView

_started: list[str] = []

# The activities that keep the contact's life in the database: the real ones run in `LifecycleRecorder`.
LIFECYCLE_ACTIVITIES = frozenset(
    {"score_contact", "hand_off_to_sales", "record_sales_feedback", "escalate_handoff", "reach_stage", "end_journey"}
)


class HasActivities(Protocol):
    def activities(self) -> list[Any]: ...


@dataclass
class LifecycleRecorder(Recorder):
    """The recorder's fakes for sending and call tasks; the real lifecycle activities (scoring on fit and behaviour,
    handoff with routing and SLA, the verdict writer, stage moves, escalations, journey ends) on `engine`."""

    engine: Engine | None = None

    def activities(self) -> list[Any]:
        assert self.engine is not None
        real = JourneyActivities(Settings(_env_file=None), self.engine, OutboxSender(self.engine), httpx.Client())  # type: ignore[call-arg]
        kept: list[Callable[..., Any]] = [a for a in real.activities() if a.__name__ in LIFECYCLE_ACTIVITIES]
        fakes = [a for a in super().activities() if getattr(a, "__name__", "") not in LIFECYCLE_ACTIVITIES]
        return [*fakes, *kept]


@contextlib.asynccontextmanager
async def running_worker(
    env: WorkflowEnvironment, task_queue: str, engine: Engine, rec: HasActivities
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


def journey_handle(env: WorkflowEnvironment, journey: str, contact_id: int) -> WorkflowHandle[Any, JourneyResult]:
    """A handle on a journey something else started (the relay's enrollment), like `start_journey`'s; inside
    `running_worker` it is terminated on the way out like the journeys started there."""
    workflow_id = workflow_ids.journey_workflow_id(journey, contact_id)
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


async def status_of(handle: WorkflowHandle[Any, Any]) -> JourneyStatus:
    return await handle.query(temporal_names.QUERY_STATUS, result_type=JourneyStatus)


async def visit_page(
    env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any], engine: Engine, contact_id: int, url: str
) -> datetime:
    """The contact views `url`: the event stored (scoring reads it) and heard by the journey, as the doors do it."""
    now = await env.get_current_time()
    with engine.begin() as conn:
        add_event(conn, contact_id, "page_view", now, url)
    await handle.signal(temporal_names.SIGNAL_PAGE_VIEW, PageView(f"pv-{contact_id}-{now.isoformat()}", url, now))
    return now


async def click_email(
    env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any], engine: Engine, contact_id: int, clicks: int = 1
) -> datetime:
    """The contact clicks links in its drops: the events stored, the last one heard by the journey."""
    now = await env.get_current_time()
    with engine.begin() as conn:
        for n in range(clicks):
            add_event(conn, contact_id, "clicked", now - timedelta(minutes=n), f"https://x.example/read/{n}")
    event = EngagementEvent(f"click-{contact_id}-{now.isoformat()}", "clicked", now, url="https://x.example/read/0")
    await handle.signal(temporal_names.SIGNAL_ENGAGEMENT, event)
    return now


async def until_phase(
    env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any], phase: str, step: timedelta, most: int = 50
) -> JourneyStatus:
    """Skip simulated time in `step`s until the journey reports `phase`."""
    for _ in range(most):
        st = await status_of(handle)
        if st.phase == phase:
            return st
        await env.sleep(step)
    raise AssertionError(f"journey never reached phase {phase!r} (last: {st.phase}, {st.last_decision})")


async def enrolled_journey(
    env: WorkflowEnvironment, task_queue: str, engine: Engine, journey: str, contact_id: int, **fields: Any
) -> WorkflowHandle[Any, JourneyResult]:
    """Start a journey and record the enrollment the doors read (a purchase ends the journeys enrolled here)."""
    now = await env.get_current_time()
    workflow_id = workflow_ids.journey_workflow_id(journey, contact_id)
    with engine.begin() as conn:
        conn.execute(
            insert(ENROLLMENT).values(contact_id=contact_id, journey=journey, workflow_id=workflow_id, enrolled_at=now)
        )
    return await start_journey(env, task_queue, journey, contact_id, **fields)


def relay_to(env: WorkflowEnvironment, task_queue: str, engine: Engine) -> OutboxRelay:
    """The real outbox relay, delivering to the test's server and task queue (`deliver_pending()` runs one pass)."""
    return OutboxRelay(AppContext(Settings(_env_file=None, task_queue=task_queue), engine, env.client))  # type: ignore[call-arg]
