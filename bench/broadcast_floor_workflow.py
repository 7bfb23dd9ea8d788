"""The bare floor of acting on a broadcast: the least a hand-written Temporal workflow needs to do the same work.

A plain workflow that waits for the broadcast signal (the same `BroadcastNotice` payload journeys get), runs one
local activity that makes the database writes a nurture journey's drop makes, and goes back to waiting. It runs
in the product's sandbox (`workers.journey_worker.sandbox_runner`) with the SDK's default payload converter, like
`JourneyWorkflow`. No search attributes, no current details, no journal: this is the floor `bench.broadcast_fanout`
measures nurture against (issue 12, item 4). It is a measuring stick, not product code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from nurture import temporal_names
    from workflows.payloads import BroadcastNotice

FLOOR_WORKFLOW = "BenchBroadcastFloorWorkflow"
FLOOR_ACTIVITY = "bench_floor_act"


@dataclass(frozen=True)
class FloorInput:
    contact_id: int


@dataclass(frozen=True)
class FloorActInput:
    """What the floor's one local activity needs: ids and the workflow's clock, as `SendDropInput` carries."""

    broadcast_id: str
    workflow_id: str
    contact_id: int
    item_id: str
    now: datetime


@workflow.defn(name=FLOOR_WORKFLOW)
class FloorWorkflow:
    def __init__(self) -> None:
        self._pending: list[BroadcastNotice] = []
        self._handled: set[str] = set()

    @workflow.run
    async def run(self, inp: FloorInput) -> None:
        workflow_id = workflow.info().workflow_id
        while True:
            await workflow.wait_condition(lambda: bool(self._pending))
            notice = self._pending.pop(0)
            await workflow.execute_local_activity(
                FLOOR_ACTIVITY,
                FloorActInput(notice.broadcast_id, workflow_id, inp.contact_id, notice.item_id, workflow.now()),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(maximum_attempts=3),
            )

    @workflow.signal(name=temporal_names.SIGNAL_BROADCAST)
    def receive_broadcast(self, notice: BroadcastNotice) -> None:
        if notice.broadcast_id not in self._handled:  # the same at-least-once guard a journey has
            self._handled.add(notice.broadcast_id)
            self._pending.append(notice)
