"""Record histories of the shipped journeys for the replay test: `python -m tests.workflows.record_histories`.

Re-record only when a change to the runtime or a storyboard is *meant* to be incompatible with running
journeys (and then plan a versioned rollout). The replay test fails on any unintended non-determinism.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from nurture import search_attributes, temporal_names, workflow_ids
from nurture.binaries import temporal_cli, temporal_test_server
from nurture.db.engine import make_engine, migrate
from nurture.temporal import register_search_attributes
from tests.workflows.fakes import Recorder
from tests.workflows.scenario import running_worker, start_journey
from workflows.payloads import RUNTIME_VERSION, BroadcastNotice, EngagementEvent, ExitRequest, PageView, SalesFeedback

HISTORIES = Path(__file__).parent / "histories"


async def _save(client: Client, workflow_id: str, name: str) -> None:
    runs = []
    async for event_run in _runs(client, workflow_id):
        runs.append(event_run)
    for stale in HISTORIES.glob(f"{name}-run*.json"):  # a chain may have fewer runs than last time
        stale.unlink()
    for n, run_id in enumerate(reversed(runs)):
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        path = HISTORIES / f"{name}-run{n + 1}.json"
        path.write_text(history.to_json())
        print("saved", path.name)


async def _runs(client: Client, workflow_id: str):  # type: ignore[no-untyped-def]
    async for wf in client.list_workflows(f"WorkflowId = '{workflow_id}'"):
        yield wf.run_id


async def b2b_story(env: WorkflowEnvironment, engine: object, contact_id: int = 9001) -> str:
    rec = Recorder(scores=[60.0, 10.0, 20.0])
    async with running_worker(env, "rec-b2b", engine, rec):  # type: ignore[arg-type]
        h = await start_journey(env, "rec-b2b", "b2b_drip", contact_id, persona="finance-lead",
                                time_zone="America/Chicago", topics=["compliance"])  # fmt: skip
        await env.sleep(timedelta(days=3))
        now = await env.get_current_time()
        await h.signal(temporal_names.SIGNAL_ENGAGEMENT, EngagementEvent("o-1", "opened", now))
        await h.signal(temporal_names.SIGNAL_PAGE_VIEW, PageView("p-1", "https://ledgerline.example/pricing", now))
        await env.sleep(timedelta(hours=2))
        await h.signal(temporal_names.SIGNAL_SALES_FEEDBACK, SalesFeedback(False, "no budget this year"))
        await env.sleep(timedelta(days=60))
        await h.signal(
            temporal_names.SIGNAL_BROADCAST,
            BroadcastNotice("reg-1", "regulation", "bc-einvoicing-2027", ["compliance"]),
        )
        await env.sleep(timedelta(days=20))
        await h.signal(temporal_names.SIGNAL_EXIT, ExitRequest("unsubscribe"))
        await h.result()
    return workflow_ids.journey_workflow_id("b2b_drip", contact_id)


async def b2c_story(env: WorkflowEnvironment, engine: object) -> str:
    rec = Recorder(scores=[30.0, 45.0])
    async with running_worker(env, "rec-b2c", engine, rec):  # type: ignore[arg-type]
        h = await start_journey(env, "rec-b2c", "b2c_cultivation", 9002, persona="homeowner",
                                time_zone="Australia/Sydney", topics=["mowers"])  # fmt: skip
        await env.sleep(timedelta(days=1))
        await h.signal(
            temporal_names.SIGNAL_BROADCAST, BroadcastNotice("ban-1", "regulation", "bc-hosepipe-ban", ["lawn-care"])
        )
        await env.sleep(timedelta(days=10))
        now = await env.get_current_time()
        await h.signal(
            temporal_names.SIGNAL_PAGE_VIEW, PageView("p-2", "https://greenacre.example/mowers/verdant-900", now)
        )
        await env.sleep(timedelta(days=30))
        await h.signal(
            temporal_names.SIGNAL_BROADCAST, BroadcastNotice("x2", "product_launch", "bc-verdant-x2-launch", ["mowers"])
        )
        await env.sleep(timedelta(days=400))
        await h.result()
    return workflow_ids.journey_workflow_id("b2c_cultivation", 9002)


async def rollover_story(env: WorkflowEnvironment, engine: object) -> str:
    rec = Recorder(scores=[10.0])
    scale = timedelta(weeks=1).total_seconds() / 0.3
    async with running_worker(env, "rec-can", engine, rec):  # type: ignore[arg-type]
        h = await start_journey(env, "rec-can", "b2b_drip", 9003, persona="it-lead", time_zone="UTC",
                                history_limit=60, time_scale=scale)  # fmt: skip
        for week in range(12):
            await asyncio.sleep(0.3)
            now = await env.get_current_time()
            for n in range(4):
                await h.signal(
                    temporal_names.SIGNAL_PAGE_VIEW, PageView(f"w{week}-{n}", f"https://x.example/b/{n}", now)
                )
        await h.result()
    return workflow_ids.journey_workflow_id("b2b_drip", 9003)


async def measured_story(env: WorkflowEnvironment, engine: object, contact_id: int) -> str:
    """b2b_drip as shipped with its holdout and subject-line test (both behind patches): a few drops, a pricing
    visit, a rejection, an unsubscribe. Contact 9004 is treated (arm a), 9002 held out."""
    rec = Recorder(scores=[60.0, 10.0])
    async with running_worker(env, "rec-measured", engine, rec):  # type: ignore[arg-type]
        h = await start_journey(env, "rec-measured", "b2b_drip", contact_id, persona="finance-lead",
                                time_zone="Europe/Paris", topics=["compliance"])  # fmt: skip
        await env.sleep(timedelta(days=3))
        now = await env.get_current_time()
        await h.signal(temporal_names.SIGNAL_PAGE_VIEW, PageView("p-1", "https://ledgerline.example/pricing", now))
        await env.sleep(timedelta(hours=2))
        await h.signal(temporal_names.SIGNAL_SALES_FEEDBACK, SalesFeedback(False, "not this quarter"))
        await env.sleep(timedelta(days=50))
        await h.signal(temporal_names.SIGNAL_EXIT, ExitRequest("unsubscribe"))
        await h.result()
    return workflow_ids.journey_workflow_id("b2b_drip", contact_id)


Story = Callable[[WorkflowEnvironment, object], Awaitable[str]]  # runs a journey, returns its workflow id


async def _record(stories: list[tuple[Story, str]], engine: Engine) -> None:
    """Run each story on a fresh time-skipping server and save its history as `histories/<name>.json`."""
    env = await WorkflowEnvironment.start_time_skipping(test_server_existing_path=temporal_test_server())
    await register_search_attributes(env.client)
    try:
        for story, name in stories:
            workflow_id = await story(env, engine)
            history = await env.client.get_workflow_handle(workflow_id).fetch_history()
            (HISTORIES / f"{name}.json").write_text(history.to_json())
            print("saved", name)
    finally:
        await env.shutdown()


@contextlib.contextmanager
def _database() -> Iterator[Engine]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/rec.db"
        migrate(url)
        yield make_engine(url)


async def record_measured() -> None:
    """Only the measured histories: `python -m tests.workflows.record_histories measured` (the older histories
    stay as they are: they are what journeys begun before the holdout and the subject test look like)."""
    with _database() as engine:
        await _record(
            [
                (lambda env, eng: measured_story(env, eng, 9004), "b2b_drip-measured-treated"),
                (lambda env, eng: measured_story(env, eng, 9002), "b2b_drip-measured-held"),
            ],
            engine,
        )


async def record_current() -> None:
    """The b2b story at the current runtime version, under its own name:
    `python -m tests.workflows.record_histories current` (older histories stay: they are the journeys in flight)."""
    with _database() as engine:
        await _record([(lambda env, eng: b2b_story(env, eng, 9005), f"b2b_drip-runtime-v{RUNTIME_VERSION}")], engine)


async def main() -> None:
    HISTORIES.mkdir(exist_ok=True)
    with _database() as engine:
        await _record([(b2b_story, "b2b_drip"), (b2c_story, "b2c_cultivation")], engine)
        dev = await WorkflowEnvironment.start_local(
            dev_server_existing_path=temporal_cli(), search_attributes=search_attributes.ALL_SEARCH_ATTRIBUTES
        )
        try:
            workflow_id = await rollover_story(dev, engine)
            await _save(dev.client, workflow_id, "b2b_drip-rollover")
        finally:
            await dev.shutdown()


if __name__ == "__main__":
    import sys

    modes = {"measured": record_measured, "current": record_current}
    asyncio.run(modes[sys.argv[1]]() if sys.argv[1:] else main())
