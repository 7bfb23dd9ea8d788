"""A journey that failed (its worker did not know it) or that ops stopped says so in `nurture status`, with the
reason; a late event never restarts it; `nurture enroll` starts it again. Real dev server, both databases."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.testing import WorkflowEnvironment

from nurture import temporal_names, workflow_ids
from nurture.clock import utcnow
from nurture.config import Settings
from nurture.db import Enrollment
from nurture.journey_client import EnrollError, enroll, signal_journey
from tests.cli.test_cli_commands import cli_env, nurture
from workers.journey_worker import build_worker
from workflows.payloads import JourneyInput, PageView

ADA = ("--email", "ada@ledger.example", "--persona", "finance-lead", "--time-zone", "Europe/Paris")


def flat(text: str) -> str:
    return " ".join(text.replace("│", " ").split())


@pytest.mark.slow
# The SDK leaves the run coroutine of a workflow whose @workflow.init raised un-awaited (a warning, not a fault).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_a_failed_or_stopped_journey_says_why_and_can_be_enrolled_again(
    dev_server_env: WorkflowEnvironment, engine: Engine, task_queue: str, tmp_path: Path
) -> None:
    env = cli_env(dev_server_env, engine, task_queue, tmp_path)
    client = dev_server_env.client
    settings = Settings(_env_file=None, task_queue=task_queue)  # type: ignore[call-arg]
    async with build_worker(client, settings, engine):
        first = await asyncio.to_thread(nurture, env, "enroll", *ADA)
        assert first.returncode == 0, first.stderr
        with Session(engine) as session:
            cid = session.exec(select(Enrollment.contact_id)).one()
        drip = client.get_workflow_handle(workflow_ids.journey_workflow_id("b2b_drip", cid))

        # A journey this process does not know is refused before anything starts ...
        with pytest.raises(EnrollError, match="unknown journey 'brand_new'"):
            await enroll(client, engine, settings, cid, "brand_new")
        # ... and one a newer client started but this worker does not know fails its run at once, saying why.
        unknown = await client.start_workflow(
            temporal_names.JOURNEY_WORKFLOW, JourneyInput(journey="brand_new", contact_id=cid),
            id=workflow_ids.journey_workflow_id("brand_new", cid), task_queue=task_queue,
        )  # fmt: skip
        with pytest.raises(WorkflowFailureError):
            await unknown.result()
        shown = await asyncio.to_thread(nurture, env, "status", str(cid), "--journey", "brand_new")
        assert shown.returncode == 0, shown.stderr
        text = flat(shown.stdout)
        assert "phase ended" in text and "outcome failed" in text, text
        assert "is not loaded by this worker" in text and "restart the worker" in text, text

        # Ops stop the drip: a late page view does not bring it back, status says who stopped it and why.
        await drip.terminate(reason="stopped by ops for a data fix")
        late = PageView("late-pv", "https://ledger.example/pricing", utcnow())
        assert not await signal_journey(
            client, engine, settings, cid, "b2b_drip", temporal_names.SIGNAL_PAGE_VIEW, late
        )
        assert (await drip.describe()).status == WorkflowExecutionStatus.TERMINATED
        stopped = await asyncio.to_thread(nurture, env, "status", str(cid), "--journey", "b2b_drip")
        text = flat(stopped.stdout)
        assert "outcome terminated" in text and "stopped by ops for a data fix" in text, text

        # Enrolling again starts a new run of the stopped journey.
        again = await asyncio.to_thread(nurture, env, "enroll", *ADA, "--journey", "b2b_drip")
        assert again.returncode == 0, again.stderr
        assert "enrolling again" in again.stdout and "1 enrollment(s) delivered" in again.stdout, again.stdout
        # A contact no entry rule matches is saved, and the CLI says why nobody was enrolled.
        nobody = await asyncio.to_thread(nurture, env, "enroll", "--email", "sam@example.org")
        assert nobody.returncode == 0, nobody.stderr
        assert "no journey's entry rule matches persona 'general'" in flat(nobody.stdout), nobody.stdout
        assert "0 enrollment(s) delivered" in nobody.stdout
        described = await client.get_workflow_handle(workflow_ids.journey_workflow_id("b2b_drip", cid)).describe()
        assert described.status == WorkflowExecutionStatus.RUNNING
        await client.get_workflow_handle(described.id).terminate("test over")
