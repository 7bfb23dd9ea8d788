"""Determinism guard: saved histories of the shipped journeys (including continue-as-new runs) replay against the
current code. A change that would break running journeys fails here, not in production."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from workers.journey_worker import sandbox_runner
from workflows.journey_workflow import JourneyWorkflow
from workflows.payloads import RUNTIME_VERSION
from workflows.runtime import PATCH_HOLDOUT

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def _patches(path: Path) -> set[str]:
    """The patch ids a history's markers record (`workflow.patched`, which `j.changed` calls)."""
    found = set()
    for event in json.loads(path.read_text())["events"]:
        details = event.get("markerRecordedEventAttributes", {}).get("details", {})
        for payloads in details.values():
            for p in payloads.get("payloads", []):
                data = json.loads(base64.b64decode(p.get("data", "")) or b"{}")
                if isinstance(data, dict) and "id" in data:
                    found.add(data["id"])
    return found


def test_histories_cover_every_shipped_journey_and_a_rollover() -> None:
    names = {p.stem for p in HISTORIES}
    assert {"b2b_drip", "b2c_cultivation"} <= names
    assert len([n for n in names if n.startswith("b2b_drip-rollover-run")]) >= 3
    # Journeys the current starters begin (`python -m tests.workflows.record_histories current` after a bump).
    assert f"b2b_drip-runtime-v{RUNTIME_VERSION}" in names


def test_histories_cover_b2b_drip_before_and_after_its_holdout_and_subject_test() -> None:
    """Journeys begun before the change replay without it; journeys begun after it (treated and held out) replay
    with it: both paths of `JourneyRuntime.begin` and of b2b_drip's `j.changed("subject-line-test")`."""
    here = Path(__file__).parent / "histories"
    new = {PATCH_HOLDOUT, "subject-line-test"}
    assert not new & _patches(here / "b2b_drip.json")
    for name in ("b2b_drip-measured-treated", "b2b_drip-measured-held"):
        assert new <= _patches(here / f"{name}.json"), name
    held = (here / "b2b_drip-measured-held.json").read_text()
    assert any(
        b"in the journey's holdout" in base64.b64decode(p["data"])
        for e in json.loads(held)["events"]
        for p in e.get("activityTaskCompletedEventAttributes", {}).get("result", {}).get("payloads", [])
        if "data" in p
    ), "the held-out history really was held out"


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_saved_history_replays_deterministically(path: Path) -> None:
    history = WorkflowHistory.from_json("replay", path.read_text())
    replayer = Replayer(workflows=[JourneyWorkflow], workflow_runner=sandbox_runner())
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"


async def test_replay_detects_a_changed_storyboard(monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard can fail: a storyboard that drops where it used to wait does not replay."""
    from workflows import dsl

    spec = dsl.REGISTRY["b2b_drip"]

    async def changed(j: dsl.Journey) -> None:
        while True:
            await j.drop()
            await j.drop()

    monkeypatch.setitem(dsl.REGISTRY, "b2b_drip", dsl.JourneySpec(**{**spec.__dict__, "storyboard": changed}))
    history = WorkflowHistory.from_json("replay", (Path(__file__).parent / "histories" / "b2b_drip.json").read_text())
    replayer = Replayer(workflows=[JourneyWorkflow], workflow_runner=sandbox_runner())
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is not None
