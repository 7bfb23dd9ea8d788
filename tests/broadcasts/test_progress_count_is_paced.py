"""The broadcast workflow's pacing. Counting a broadcast's reports reads every one of its rows, so the workflow
paces it by what the last count cost: the next count waits ten times as long as the last one took (at most a tenth
of a database core for the progress bar, whatever the audience), the records in between keep the last count, and
the final record always counts. And the report window's ids (with when each signal landed) travel from one
signalling chunk to the next. The real BroadcastWorkflow in simulated time, its activities stubbed under their
real names; and the store's side of it on both backends."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy.engine import Engine
from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from nurture import temporal_names
from nurture.broadcasts.store import record_outcome, record_progress
from nurture.clock import utcnow
from nurture.db import Broadcast
from nurture.db.engine import session_scope
from tests.activities.helpers import add_contact
from workflows.broadcast_payloads import (
    AudiencePage,
    AudiencePageInput,
    BroadcastInput,
    BroadcastProgressInput,
    BroadcastProgressResult,
    SignalJourneysInput,
    SignalJourneysResult,
)
from workflows.broadcast_workflow import BroadcastWorkflow
from workflows.payloads import BroadcastNotice

IDS = ["journey/b2b_drip/contact-1", "journey/b2b_drip/contact-2", "journey/b2b_drip/contact-3"]


class Stubs:
    def __init__(self, count_seconds: float) -> None:
        self.count_seconds = count_seconds
        self.recounts: list[bool] = []
        self.times: list[float] = []  # workflow time of each record, seconds
        self.listed = 0
        self.windows: list[dict[str, float]] = []  # each chunk's starting window, as the workflow passed it

    @activity.defn(name=temporal_names.ACTIVITY_COUNT_AUDIENCE)
    async def count_audience(self, query: str) -> int:
        return len(IDS)

    @activity.defn(name=temporal_names.ACTIVITY_LIST_AUDIENCE_PAGE)
    async def list_audience_page(self, inp: AudiencePageInput) -> AudiencePage:
        self.listed += 1
        return AudiencePage(IDS if self.listed == 1 else [], "")  # the sweep finds nobody new

    @activity.defn(name=temporal_names.ACTIVITY_SIGNAL_JOURNEYS)
    async def signal_journeys(self, inp: SignalJourneysInput) -> SignalJourneysResult:
        """One journey per chunk, each still unreported: the window the next chunk must start with."""
        self.windows.append(dict(inp.unreported))
        held = {**inp.unreported, inp.workflow_ids[0]: 1_000.0 + len(self.windows)}
        return SignalJourneysResult(1, 1, 0, 0, unreported=held)

    @activity.defn(name=temporal_names.ACTIVITY_RECORD_PROGRESS)
    def record_progress(self, inp: BroadcastProgressInput) -> BroadcastProgressResult:
        self.recounts.append(inp.recount)
        self.times.append(inp.now.timestamp())
        # nobody reports until the broadcast is finished: the settle phase waits out its 60 s
        heard = len(IDS) if inp.finished else 0
        return BroadcastProgressResult({"dropped": heard}, count_seconds=self.count_seconds if inp.recount else 0.0)


async def _run(env: WorkflowEnvironment, stubs: Stubs) -> None:
    queue = f"paced-count-{uuid.uuid4().hex[:8]}"
    acts = [stubs.count_audience, stubs.list_audience_page, stubs.signal_journeys, stubs.record_progress]
    with ThreadPoolExecutor(4) as pool:
        async with Worker(env.client, task_queue=queue, workflows=[BroadcastWorkflow], activities=acts,
                          activity_executor=pool):  # fmt: skip
            inp = BroadcastInput(
                broadcast_id=f"paced-{uuid.uuid4().hex[:8]}",
                notice=BroadcastNotice("paced", "announcement", "bc-hosepipe-ban"),
                query="ExecutionStatus = 'Running'",
                settle_seconds=60.0,
            )
            await env.client.execute_workflow(
                temporal_names.BROADCAST_WORKFLOW, inp, id=f"broadcast/{inp.broadcast_id}", task_queue=queue,
                execution_timeout=timedelta(hours=1),
            )  # fmt: skip


async def test_a_costly_count_is_not_repeated_until_ten_times_its_cost_has_passed(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    costly = Stubs(count_seconds=30.0)  # a count that took 30 s: the next may come 300 s later, after the settle
    await _run(time_skipping_env, costly)
    assert len(costly.recounts) >= 10  # the settle phase records every 2 s of its 60
    assert costly.recounts[0] is True
    assert costly.recounts[-1] is True  # the final record counts
    assert not any(costly.recounts[1:-1]), costly.recounts  # in between, the last count is kept
    # the report window travels from chunk to chunk through the workflow, ids with when they landed
    assert costly.windows == [{}, {IDS[0]: 1001.0}, {IDS[0]: 1001.0, IDS[1]: 1002.0}]

    cheap = Stubs(count_seconds=0.01)  # a small broadcast's count: paced at 0.1 s, so nearly every record counts
    await _run(time_skipping_env, cheap)
    assert len(cheap.recounts) >= 10
    counted_at = cheap.times[0]
    for at, recount in zip(cheap.times[1:-1], cheap.recounts[1:-1], strict=True):
        assert recount == (at >= counted_at + 0.1), (at, counted_at)  # counted once 0.1 s had passed
        counted_at = at if recount else counted_at
    assert cheap.recounts[-12:] == [True] * 12  # the settle phase's records, 2 s apart, all counted


def test_a_record_without_recount_keeps_the_last_count(engine: Engine) -> None:
    cid = add_contact(engine, email="paced@example.com")
    now = utcnow()
    with session_scope(engine) as s:
        s.add(Broadcast(id="bc-paced", kind="announcement", item_id="x", created_by="test", created_at=now))
    with session_scope(engine) as s:
        assert record_progress(s, "bc-paced", "running", {"signalled": 1}, now, False)["dropped"] == 0
    with engine.begin() as conn:
        record_outcome(conn, "bc-paced", "journey/a/contact-1", cid, "dropped", "sent x", now)
    with session_scope(engine) as s:  # not counted again: the row and the answer keep the last count
        assert record_progress(s, "bc-paced", "running", {"signalled": 1}, now, False, recount=False)["dropped"] == 0
    with session_scope(engine) as s:
        row = s.get(Broadcast, "bc-paced")
        assert row is not None and row.counts["dropped"] == 0 and row.counts["signalled"] == 1
        assert record_progress(s, "bc-paced", "completed", {"signalled": 1}, now, True)["dropped"] == 1
