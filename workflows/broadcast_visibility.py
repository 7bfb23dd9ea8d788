"""What a broadcast shows while it runs: current details for the Temporal UI, search attributes for ops, progress."""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from nurture import search_attributes
    from workflows.broadcast_payloads import BroadcastCarry, BroadcastInput, BroadcastProgress


def heard(carry: BroadcastCarry) -> int:
    """Journeys that reported an outcome so far."""
    return sum(carry.outcomes.values())


def progress(inp: BroadcastInput, carry: BroadcastCarry, *, sending: bool) -> BroadcastProgress:
    return BroadcastProgress(
        broadcast_id=inp.broadcast_id,
        state=carry.state,
        phase=carry.phase,
        total=carry.total,
        signalled=carry.signalled,
        late=carry.late,
        suppressed=carry.suppressed,
        failed=carry.failed,
        failures=dict(carry.failures),
        pages=carry.pages,
        pending=len(carry.pending),
        sending=sending,
        outcomes=dict(carry.outcomes),
        run=carry.runs,
    )


def publish(inp: BroadcastInput, carry: BroadcastCarry, upserted: dict[str, Any]) -> None:
    """Current details on every change; state and signalled count as search attributes when they change."""
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(carry.outcomes.items())) or "none yet"
    failures = ", ".join(f"{k} {v}" for k, v in sorted(carry.failures.items())) or "none"
    n = inp.notice
    workflow.set_current_details(
        "\n".join(
            [
                f"**broadcast {inp.broadcast_id}**: {n.kind} `{n.item_id}`",
                f"- state: {carry.state}; phase: {carry.phase}; pages listed: {carry.pages}",
                f"- signalled: {carry.signalled} of {carry.total} (+{carry.late} late); suppressed, not signalled: "
                f"{carry.suppressed}; failed: {carry.failed} ({failures})",
                f"- journeys reported: {heard(carry)} ({outcomes})",
                f"- rate: {inp.rate_per_second:g}/s, concurrency {inp.concurrency}",
            ]
        )
    )
    state, signalled = search_attributes.SA_BROADCAST_STATE, search_attributes.SA_BROADCAST_SIGNALLED
    wanted: dict[str, Any] = {state.name: carry.state, signalled.name: carry.signalled}
    changed = {k: v for k, v in wanted.items() if upserted.get(k) != v}
    if not changed:
        return
    updates: list[SearchAttributeUpdate[Any]] = []
    if state.name in changed:
        updates.append(state.value_set(carry.state))
    if signalled.name in changed:
        updates.append(signalled.value_set(carry.signalled))
    workflow.upsert_search_attributes(updates)
    upserted.update(changed)
