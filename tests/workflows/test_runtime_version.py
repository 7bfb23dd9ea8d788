"""A journey started at the current runtime version records no marker for the runtime's own changes and ends with
no search-attribute upsert (its result holds the last stage and score); a journey from version 2 or 3 ends with one
upsert saying ended; a journey started before versions existed (version 1) still goes through the patch markers it
always had. Every history replays on the current code."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import History
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from nurture import search_attributes, temporal_names
from tests.workflows.fakes import Recorder
from tests.workflows.scenario import running_worker, start_journey
from workers.journey_worker import sandbox_runner
from workflows.journey_workflow import JourneyWorkflow
from workflows.payloads import RUNTIME_VERSION, ExitRequest
from workflows.rhythm import PATCH_RHYTHM
from workflows.runtime import PATCH_HOLDOUT
from workflows.sales import PATCH_FIT_READINESS, PATCH_HANDOFF_SLA

B2B = {"persona": "finance-lead", "time_zone": "Europe/Berlin", "topics": ["compliance"]}
# The runtime's own changes; b2b_drip's `j.changed(...)` markers are its author's and stay in every history.
RUNTIME_PATCHES = (
    search_attributes.PATCH_PHASE_ENDED,
    search_attributes.PATCH_LIFECYCLE_STAGE,
    PATCH_HOLDOUT,
    PATCH_FIT_READINESS,
    PATCH_HANDOFF_SLA,
    PATCH_RHYTHM,
)
ENDED = {search_attributes.SA_PHASE.name: "ended", search_attributes.SA_NEXT_DROP_AT.name: None}


async def _ended_history(env: WorkflowEnvironment, task_queue: str, engine: Engine, contact: int, version: int) -> Any:
    rec = Recorder(scores=[30.0])
    async with running_worker(env, task_queue, engine, rec):
        handle = await start_journey(env, task_queue, "b2b_drip", contact, runtime_version=version, **B2B)
        await env.sleep(timedelta(days=20))
        await handle.signal(temporal_names.SIGNAL_EXIT, ExitRequest(reason="unsubscribe"))
        assert (await handle.result()).outcome == "unsubscribe"
        assert rec.sent(contact), "the scenario must have sent a drop before the exit"
        return await env.client.get_workflow_handle(handle.id).fetch_history()


def _patch_markers(history: History) -> list[str]:
    """The runtime patch ids among the history's patch markers."""
    ids = [
        json.loads(p.data)["id"]
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and e.marker_recorded_event_attributes.marker_name == "core_patch"
        for p in e.marker_recorded_event_attributes.details["patch-data"].payloads
    ]
    return [pid for pid in ids if pid in RUNTIME_PATCHES]


def _upserts(history: History) -> list[dict[str, Any]]:
    return [
        {
            name: json.loads(p.data) if p.data else None
            for name, p in e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields.items()
        }
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
    ]


async def _replays(history: WorkflowHistory) -> bool:
    replayer = Replayer(workflows=[JourneyWorkflow], workflow_runner=sandbox_runner())
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    return result.replay_failure is None


def _after_exit(history: History) -> list[EventType.ValueType]:
    """Event types from the exit signal (the history's last signal) on."""
    types = [e.event_type for e in history.events]
    last_signal = len(types) - 1 - types[::-1].index(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
    return types[last_signal:]


async def test_a_current_journey_has_no_runtime_patch_markers_and_ends_with_no_upsert(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    assert RUNTIME_VERSION >= 4
    history = await _ended_history(time_skipping_env, task_queue, sqlite_engine, 341, RUNTIME_VERSION)
    assert _patch_markers(history) == []
    upserts = _upserts(history)
    versions = [v for u in upserts for v in u.get("TemporalChangeVersion") or []]
    assert not [v for v in versions if any(v.startswith(p) for p in RUNTIME_PATCHES)], "no runtime change-version"
    assert upserts, "the journey published its progress while it ran"
    assert all(u.get(search_attributes.SA_PHASE.name) != "ended" for u in upserts), "ending costs no upsert"
    ending = _after_exit(history)
    assert EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES not in ending, ending
    assert ending[-1] == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
    assert await _replays(history)


async def test_the_result_holds_the_last_stage_and_score(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    history = await _ended_history(time_skipping_env, task_queue, sqlite_engine, 343, RUNTIME_VERSION)
    completed = history.events[-1].workflow_execution_completed_event_attributes
    result = json.loads(completed.result.payloads[0].data)
    started = history.events[0].workflow_execution_started_event_attributes.search_attributes.indexed_fields
    trail = {k: json.loads(started[k.name].data) for k in (search_attributes.SA_STAGE, search_attributes.SA_LEAD_SCORE)}
    for u in _upserts(history):
        trail.update({k: u[k.name] for k in trail if k.name in u})
    assert result["stage"] == trail[search_attributes.SA_STAGE], (result, trail)
    assert result["lead_score"] == trail[search_attributes.SA_LEAD_SCORE], (result, trail)
    assert result["outcome"] == "unsubscribe" and result["drops_sent"] >= 1


async def test_a_journey_from_version_3_still_ends_with_one_upsert(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    history = await _ended_history(time_skipping_env, task_queue, sqlite_engine, 344, 3)
    assert _patch_markers(history) == []
    upserts = _upserts(history)
    assert upserts[-1].items() >= ENDED.items(), "the last upsert says ended and promises no wake-up"
    assert all(u.get(search_attributes.SA_PHASE.name) != "ended" for u in upserts[:-1]), "ended is said once"
    assert EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES in _after_exit(history)
    assert await _replays(history)


async def test_a_journey_started_before_runtime_versions_keeps_its_patch_markers(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    history = await _ended_history(time_skipping_env, task_queue, sqlite_engine, 342, 1)
    markers = _patch_markers(history)
    assert search_attributes.PATCH_PHASE_ENDED in markers and PATCH_HOLDOUT in markers, markers
    last = {k: v for k, v in _upserts(history)[-1].items() if k != "TemporalChangeVersion"}
    assert last == ENDED, "the old path: its own upsert after the closing flush"
    assert await _replays(history)
