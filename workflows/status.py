"""The answer to a journey's `status` query (what `nurture status` and ops tools show)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows import dsl
    from workflows.payloads import JourneyCarry, JourneyInput, JourneyStatus
    from workflows.visibility import Visibility


def journey_status(inp: JourneyInput, spec: dsl.JourneySpec, carry: JourneyCarry, shown: Visibility) -> JourneyStatus:
    return JourneyStatus(
        journey=spec.key,
        contact_id=inp.contact_id,
        phase=carry.phase,
        step=shown.step,
        stage=carry.stage,
        lead_score=carry.score,
        next_wake_at=shown.next_wake_at,
        drops_sent=carry.drops_sent,
        items_sent=list(carry.sent_items),
        items_refused=list(carry.refused_items),
        last_decision=carry.last_decision,
        why=carry.last_why,
        pending_broadcasts=len(carry.pending_broadcasts) + len(carry.deferred_broadcasts),
        handled_broadcasts=list(carry.handled_broadcasts),
        run=carry.runs,
        signals_received=carry.signals_received,
        variants=dict(carry.variants),
        paused=carry.paused,
    )
