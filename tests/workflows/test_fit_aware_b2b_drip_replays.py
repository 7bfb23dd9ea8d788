"""The fit-aware b2b_drip (grade beside score for the call decision, patched readiness and SLA) replays its own
history deterministically, and the call goes to a fair fit nearly ready, never to a poor fit with the same score."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from nurture import temporal_names
from tests.workflows.fakes import Recorder
from tests.workflows.scenario import running_worker, start_journey
from workers.journey_worker import sandbox_runner
from workflows.journey_workflow import JourneyWorkflow
from workflows.payloads import PageView

B2B = {"persona": "finance-lead", "time_zone": "Europe/Berlin", "topics": ["compliance"]}


async def _run(env: WorkflowEnvironment, task_queue: str, engine: Engine, contact_id: int, grade: str) -> Recorder:
    rec = Recorder(scores=[40.0], grade=grade)  # under the threshold (45), above NEARLY_READY (36)
    async with running_worker(env, task_queue, engine, rec):
        handle = await start_journey(env, task_queue, "b2b_drip", contact_id, **B2B)
        await env.sleep(timedelta(days=3))
        now = await env.get_current_time()
        await handle.signal(temporal_names.SIGNAL_PAGE_VIEW, PageView(f"pv-{contact_id}", "https://x/pricing", now))
        await env.sleep(timedelta(days=9))  # the call (if any) times out after a week
        history = await handle.fetch_history()
    replayer = Replayer(workflows=[JourneyWorkflow], workflow_runner=sandbox_runner())
    await replayer.replay_workflow(history)  # raises on nondeterminism
    markers = " ".join(str(e.marker_recorded_event_attributes) for e in history.events)
    assert rec.scored and all(s.fit for s in rec.scored), "the readiness check graded the contact (fit path)"
    assert "call-on-fit-and-score" in markers
    return rec


async def test_a_fair_fit_nearly_ready_gets_a_call_a_poor_fit_does_not_and_both_replay(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    fair = await _run(time_skipping_env, task_queue, sqlite_engine, 9101, "B-")
    poor = await _run(time_skipping_env, task_queue, sqlite_engine, 9102, "C+")
    assert [c.contact_id for c in fair.call_tasks] == [9101]
    assert "grade B-, score 40" in fair.call_tasks[0].why
    assert poor.call_tasks == [] and all(s.fit for s in poor.scored)
