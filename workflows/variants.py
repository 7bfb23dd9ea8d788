"""The `variant` primitive: a contact's arm of an experiment, journalled and kept in the carry.

The arm comes from `workflows.experiments` (contact id + experiment key), is written to the journal (so a replay
or a later run fast-forwards through the same answer, even if the weights were edited since) and to
`carry.variants` (shown in `status`, and sent with every later drop so the touch records it).
"""

from __future__ import annotations

from collections.abc import Sequence

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.experiments import Experiment
    from workflows.journal import Journal
    from workflows.payloads import JournalEntry, JourneyCarry
    from workflows.visibility import Visibility


async def variant(
    journal: Journal,
    carry: JourneyCarry,
    shown: Visibility,
    contact_id: int,
    key: str,
    arms: Sequence[str],
    weights: Sequence[float] | None,
) -> str:
    experiment = Experiment.of(key, arms, weights)  # a bad declaration fails the task, never a wrong arm

    async def live(entry: JournalEntry) -> str:
        arm = carry.variants.get(key) or experiment.arm(contact_id)
        carry.variants[key] = arm
        shown.decide(f"variant {key}: {arm}", f"assigned from the contact id among {', '.join(arms)}")
        return arm

    arm = await journal.step("variant", live)
    assert arm is not None
    carry.variants.setdefault(key, arm)
    return arm
