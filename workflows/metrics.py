"""nurture's own worker metrics, through the Temporal SDK's workflow metric meter.

They appear on the worker's Prometheus endpoint next to the SDK's series (`nurture.worker_metrics`), are not
recorded while a workflow replays, and carry ids and journey keys only:
- `nurture_drops{journey,outcome}`: every send_drop answer (sent, deferred, refused, duplicate);
- `nurture_handoffs{journey}`: handoffs to sales created;
- `nurture_broadcast_signalled{broadcast}`: journeys a broadcast has reached (its progress, as a rate).
"""

from __future__ import annotations

from temporalio import workflow

# send_drop's statuses, folded into what an operator watches
DROP_OUTCOMES = {
    "sent": "sent",
    "unconfirmed": "sent",  # at most once: counted with the sent
    "deferred": "deferred",
    "failed": "refused",
    "suppressed": "refused",
    "duplicate": "duplicate",
    "held_out": "held_out",
}


def count_drop(journey: str, status: str) -> None:
    outcome = DROP_OUTCOMES.get(status, "refused")
    counter = workflow.metric_meter().create_counter("nurture_drops", "Drops by journey and outcome.")
    counter.with_additional_attributes({"journey": journey, "outcome": outcome}).add(1)


def count_handoff(journey: str) -> None:
    counter = workflow.metric_meter().create_counter("nurture_handoffs", "Handoffs to sales by journey.")
    counter.with_additional_attributes({"journey": journey}).add(1)


def count_broadcast_signalled(broadcast_id: str, journeys: int) -> None:
    if journeys <= 0:
        return
    counter = workflow.metric_meter().create_counter(
        "nurture_broadcast_signalled", "Journeys a broadcast has signalled."
    )
    counter.with_additional_attributes({"broadcast": broadcast_id}).add(journeys)
