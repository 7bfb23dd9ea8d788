"""Continue-as-new: when a journey's history is long enough, start a new run that carries the journey's state."""

from __future__ import annotations

from dataclasses import replace

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.inbox import INBOX_LIMIT
    from workflows.payloads import JourneyCarry, JourneyInput


def should_continue_as_new(inp: JourneyInput) -> bool:
    info = workflow.info()
    limit = inp.history_limit
    return info.is_continue_as_new_suggested() or (limit > 0 and info.get_current_history_length() > max(limit, 50))


async def continue_as_new_if_due(inp: JourneyInput, carry: JourneyCarry) -> None:
    """Roll over to a new run (which fast-forwards through the journal) once handlers are done."""
    if not should_continue_as_new(inp):
        return
    await workflow.wait_condition(workflow.all_handlers_finished)
    carry.runs += 1
    carry.inbox = [e for e in carry.inbox if e.seq > carry.consumed_seq][-INBOX_LIMIT:]
    workflow.continue_as_new(replace(inp, carry=carry))
