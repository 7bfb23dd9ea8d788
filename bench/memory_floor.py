"""The bare floor of a cached journey's memory: what a hand-written workflow with a journey's first steps holds.

A journey in `bench.worker_memory` has sent its first drop (one activity) and sleeps in a two-week wait. The floor
does the same with nothing else: a plain workflow, outside the sandbox like `JourneyWorkflow`, that runs one
activity (a no-op under its own name, in the same worker) and then sleeps two weeks. No search attributes, no
current details, no journal, no storyboard. What one of them adds to a worker's RSS is the SDK's own price of a
cached run (the Python workflow instance and the SDK core's per-run state), measured in the same process and run
as the journeys, so a journey's cost can be read against it. It is a measuring stick, not product code.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client

MEMORY_FLOOR_WORKFLOW = "BenchMemoryFloorWorkflow"
MEMORY_FLOOR_ACTIVITY = "bench_memory_floor_act"
# started, its first workflow task (3), the activity (3), the task its result wakes (3), the timer: asleep
ASLEEP_AT_EVENTS = 11


@activity.defn(name=MEMORY_FLOOR_ACTIVITY)
def memory_floor_act(contact_id: int) -> str:
    return f"sent to {contact_id}"


@workflow.defn(name=MEMORY_FLOOR_WORKFLOW, sandboxed=False)
class MemoryFloorWorkflow:
    @workflow.run
    async def run(self, contact_id: int) -> None:
        await workflow.execute_activity(MEMORY_FLOOR_ACTIVITY, contact_id, start_to_close_timeout=timedelta(seconds=30))
        await workflow.sleep(timedelta(days=14))


def memory_floor_id(contact_id: int) -> str:
    return f"bench-memory-floor/contact-{contact_id}"


async def start_memory_floor(client: Client, task_queue: str, contact_ids: list[int], timeout: float = 900) -> None:
    """Start one floor workflow per id and wait until every one of them sleeps (its history reached the timer)."""
    slots = asyncio.Semaphore(64)

    async def one(cid: int) -> None:
        async with slots:
            await client.start_workflow(
                MEMORY_FLOOR_WORKFLOW,
                cid,
                id=memory_floor_id(cid),
                task_queue=task_queue,
                run_timeout=timedelta(hours=6),
            )

    async def asleep(cid: int) -> bool:
        async with slots:
            described = await client.get_workflow_handle(memory_floor_id(cid)).describe()
            return described.raw_description.workflow_execution_info.history_length >= ASLEEP_AT_EVENTS

    await asyncio.gather(*(one(c) for c in contact_ids))
    deadline = asyncio.get_running_loop().time() + timeout
    waiting = list(contact_ids)
    while waiting:
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{len(waiting)} floor workflows not asleep after {timeout:.0f} s")
        done = await asyncio.gather(*(asleep(c) for c in waiting))
        waiting = [c for c, ok in zip(waiting, done, strict=True) if not ok]
        if waiting:
            await asyncio.sleep(1)
