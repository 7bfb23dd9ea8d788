"""The broadcast workflow as seen from the doors: start it, address it, ask its progress, read how it closed.

Ids only cross into Temporal: the broadcast id, its audience query and its content item; who started it stays
in the database.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle, WorkflowQueryFailedError
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.service import RPCError

from nurture import search_attributes, temporal_names, workflow_ids
from nurture.db import Broadcast, BroadcastState
from workflows.broadcast_payloads import BroadcastInput, BroadcastProgress

QUERY_TIMEOUT = timedelta(seconds=3)


async def start_workflow(
    client: Client, task_queue: str, row: Broadcast, inp: BroadcastInput
) -> WorkflowHandle[Any, Any]:
    """Start (or find, if it already runs) the one workflow of this broadcast."""
    return await client.start_workflow(
        temporal_names.BROADCAST_WORKFLOW,
        inp,
        id=workflow_ids.broadcast_workflow_id(row.id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(search_attributes.SA_BROADCAST_ID, row.id),
                SearchAttributePair(search_attributes.SA_BROADCAST_STATE, str(BroadcastState.RUNNING)),
                SearchAttributePair(search_attributes.SA_BROADCAST_SIGNALLED, 0),
            ]
        ),
        static_summary=f"broadcast {row.id}: {row.kind} {row.item_id}",
        static_details=f"audience: {row.audience_query}",  # who started it stays in the database
    )


def handle(client: Client, broadcast_id: str) -> WorkflowHandle[Any, Any]:
    """The broadcast's workflow, by its id."""
    return client.get_workflow_handle(workflow_ids.broadcast_workflow_id(broadcast_id))


async def live_progress(running: WorkflowHandle[Any, Any]) -> BroadcastProgress | None:
    """The running workflow's own progress, or None (no worker answering, or it has closed)."""
    try:
        progress: BroadcastProgress = await running.query(
            temporal_names.QUERY_PROGRESS, result_type=BroadcastProgress, rpc_timeout=QUERY_TIMEOUT
        )
    except (RPCError, WorkflowQueryFailedError):
        return None
    return progress


async def closed_state(client: Client, broadcast_id: str) -> str | None:
    """If the workflow closed without recording it (terminated, timed out), say so."""
    try:
        desc = await handle(client, broadcast_id).describe(rpc_timeout=QUERY_TIMEOUT)
    except RPCError:
        return None
    if desc.status in (None, WorkflowExecutionStatus.RUNNING, WorkflowExecutionStatus.COMPLETED):
        return None
    return "failed" if desc.status == WorkflowExecutionStatus.FAILED else desc.status.name.lower()
