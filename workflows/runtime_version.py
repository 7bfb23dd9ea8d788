"""Versioning the journey runtime's own changes without a marker in every new history.

`workflow.patched(id)` records a marker (and the SDK a `TemporalChangeVersion` search-attribute upsert) in every
run that reaches the change: two history events per journey for each change the runtime ever made, forever. A
journey started by current code needs no marker to know it runs current code: the starter says so in its input
(`JourneyInput.runtime_version`, kept across continue-as-new), which is part of the history, so replay takes the
same branch. Journeys started before the field existed carry version 1 and go through `workflow.patched` exactly
as they did, so their histories replay unchanged.

Deploy order: workers before the processes that start journeys (API, CLI). A worker from before version 2 ignores
the field (the converter drops unknown keys) and would write a version-1 history for a journey whose input says 2,
which a current worker could not replay.

A later runtime change that would make histories diverge still needs `workflow.patched` for the journeys in
flight; once the starters set a higher `RUNTIME_VERSION`, journeys at or above it skip that marker too.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.payloads import RUNTIME_VERSION, JourneyInput

__all__ = ["RUNTIME_VERSION", "runtime_change"]


def runtime_change(inp: JourneyInput, patch_id: str, since: int = 2) -> bool:
    """True where this journey runs the code below the runtime change `patch_id` (part of version `since`)."""
    return inp.runtime_version >= since or workflow.patched(patch_id)
