"""Versioning a live journey: a storyboard changed under `if j.changed(...)` still replays every saved history
(journeys in flight keep their past), while new contacts take the new path, across continue-as-new too.

The change used here: new contacts get a named welcome item before the drip. Written without `j.changed`, the
same change breaks replay (the control case), which is what would strand every contact in flight.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from definitions.b2b_drip import b2b_drip
from nurture import temporal_names
from tests.workflows.fakes import Recorder
from tests.workflows.scenario import running_worker, start_journey
from workers.journey_worker import sandbox_runner
from workflows import dsl
from workflows.journey_workflow import JourneyWorkflow
from workflows.payloads import JourneyStatus

HISTORIES = sorted((Path(__file__).parent / "histories").glob("b2b_drip*.json"))
WELCOME = "b2b-pricing-explained"
B2B = {"persona": "finance-lead", "time_zone": "Europe/Paris", "topics": ["compliance"]}


async def welcome_first(j: dsl.Journey) -> None:
    """b2b_drip, changed: a welcome item first (for journeys that reach this point after the change)."""
    if j.changed("welcome-item-first"):
        await j.drop("welcome pack", item=WELCOME)
    await b2b_drip(j)


async def welcome_first_unguarded(j: dsl.Journey) -> None:
    await j.drop("welcome pack", item=WELCOME)
    await b2b_drip(j)


def _use(monkeypatch: pytest.MonkeyPatch, storyboard: dsl.Storyboard) -> None:
    spec = dsl.REGISTRY["b2b_drip"]
    monkeypatch.setitem(dsl.REGISTRY, "b2b_drip", dsl.JourneySpec(**{**spec.__dict__, "storyboard": storyboard}))


async def _replay(path: Path) -> Any:
    history = WorkflowHistory.from_json("replay", path.read_text())
    replayer = Replayer(workflows=[JourneyWorkflow], workflow_runner=sandbox_runner())
    return (await replayer.replay_workflow(history, raise_on_replay_failure=False)).replay_failure


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_saved_history_replays_on_the_changed_journey(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _use(monkeypatch, welcome_first)
    assert await _replay(path) is None


async def test_the_same_change_without_j_changed_breaks_replay(monkeypatch: pytest.MonkeyPatch) -> None:
    _use(monkeypatch, welcome_first_unguarded)
    assert await _replay(Path(__file__).parent / "histories" / "b2b_drip.json") is not None


@pytest.mark.parametrize("history_limit", [0, 60], ids=["one-run", "rolling-over"])
async def test_new_contacts_take_the_changed_path(
    history_limit: int,
    time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    sqlite_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _use(monkeypatch, welcome_first)
    env, rec = time_skipping_env, Recorder(scores=[5.0])
    contact = 801 + history_limit
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handle = await start_journey(env, task_queue, "b2b_drip", contact, history_limit=history_limit, **B2B)
        result = await handle.result()
        history = await env.client.get_workflow_handle(handle.id).fetch_history()
        status = await handle.query(temporal_names.QUERY_STATUS, result_type=JourneyStatus)
    assert (status.run > 1) == bool(history_limit), "the rolling-over case must have continued-as-new"
    items = [s.item_id for s in rec.sent(contact)]
    assert items[0] == WELCOME, "the new path: the welcome item comes first"
    assert len(items) == len(set(items)), "never repeated, even after a rollover fast-forwards through the change"
    assert result.outcome == "completed" and result.items == items
    # The last run's history replays on the same code: `changed` is deterministic.
    assert await Replayer(workflows=[JourneyWorkflow], workflow_runner=sandbox_runner()).replay_workflow(history)
    if not history_limit:
        patches = [
            str(e.marker_recorded_event_attributes)
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
            and e.marker_recorded_event_attributes.marker_name == "core_patch"
            and "welcome-item-first" in str(e.marker_recorded_event_attributes)
        ]
        # (the runtime's own patches, such as the ended phase, record markers of their own)
        assert len(patches) == 1, "the journey's change records one patch marker per run"
