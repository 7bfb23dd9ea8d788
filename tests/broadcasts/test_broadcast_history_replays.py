"""Determinism guard for broadcasts: a BroadcastWorkflow history recorded with the code of 77c854a (before the
report window carried ids and the progress count was paced; its chunk inputs carry `sent_before`, its record
results no count duration) replays against the current code, as a broadcast running through a deploy would. And
the guard can fail: a workflow that skips its first progress record does not replay."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from workers.journey_worker import sandbox_runner
from workflows import broadcast_workflow
from workflows.broadcast_workflow import BroadcastWorkflow

HISTORY = Path(__file__).parent / "histories" / "broadcast-77c854a.json"


async def _replay() -> BaseException | None:
    history = WorkflowHistory.from_json("broadcast/recorded", HISTORY.read_text())
    replayer = Replayer(workflows=[BroadcastWorkflow], workflow_runner=sandbox_runner())
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    return result.replay_failure


async def test_a_broadcast_recorded_before_replays() -> None:
    text = HISTORY.read_text()
    assert text.count('"signal_broadcast_to_journeys"') >= 3 and '"record_broadcast_progress"' in text  # chunks
    assert await _replay() is None


async def test_the_guard_fails_on_a_changed_broadcast(monkeypatch: pytest.MonkeyPatch) -> None:
    original = BroadcastWorkflow._record

    async def skips_the_first(self: BroadcastWorkflow, **kwargs: object) -> None:
        if self.carry.phase == "paging" and self._recorded_at is None and not kwargs:
            self._recorded_at = broadcast_workflow.workflow.now()  # as if recorded: one activity fewer
            return
        await original(self, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(BroadcastWorkflow, "_record", skips_the_first)
    assert await _replay() is not None
