"""Recording sales' verdict on a handoff, for every door (the CRM's HTTP call, the CLI).

The verdict itself is written by `nurture.verdicts` (one conditional write, the first verdict wins); a door also
queues it to the transactional outbox in the same transaction, naming the handoff, so it reaches the journey
even while Temporal is down and never counts for a newer handoff.

Acceptance does not just end nurture: the contact is accepted (sal), becomes a customer, and is enrolled in the
customer journey (`definitions.leads.stages.CUSTOMER_JOURNEY`) by an outbox `ENROLL` row queued after the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from definitions.leads.stages import CUSTOMER, CUSTOMER_JOURNEY, RECYCLED, SAL
from nurture import temporal_names
from nurture.inbound import outbox
from nurture.inbound.routing import OutboxSignal
from nurture.lifecycle.stages import advance_to, move_stage
from nurture.verdicts import Taken, UnknownHandoffError, VerdictRefusedError, open_handoff, take_verdict
from workflows.lifecycle import ActorKind

__all__ = ["UnknownHandoffError", "Verdict", "VerdictRefusedError", "open_handoff", "record_verdict"]


@dataclass(frozen=True)
class Verdict:
    handoff_id: int
    status: str
    queued: bool  # False: the same verdict was recorded before (nothing new to tell the journey)


def record_verdict(conn: Connection, handoff_id: int, accepted: bool, reason: str, now: datetime) -> Verdict:
    """Record the verdict and queue it for the journey (raises `VerdictRefusedError`, `UnknownHandoffError`)."""
    taken = take_verdict(conn, handoff_id, accepted, reason, now)
    if taken.taken is Taken.SAME:
        return Verdict(handoff_id, taken.status, queued=False)
    payload = {"accepted": accepted, "reason": reason, "handoff_id": handoff_id}
    signal = OutboxSignal(taken.contact_id, None, taken.journey, temporal_names.SIGNAL_SALES_FEEDBACK, payload)
    outbox.write(conn, [signal], now)
    why = reason or ("accepted by sales" if accepted else "rejected by sales")
    stage = SAL if accepted else RECYCLED
    actor_id = f"handoff-{handoff_id}"
    move_stage(conn, taken.contact_id, stage, actor=ActorKind.SALES, actor_id=actor_id, why=why, now=now)
    if accepted:
        become_customer(conn, taken.contact_id, f"accepted by sales: {why}", actor_id, now)
    return Verdict(handoff_id, taken.status, queued=True)


def become_customer(conn: Connection, contact_id: int, why: str, actor_id: str, now: datetime) -> None:
    """Forward to customer (never pulls an advocate back) and enroll the customer journey unless already in it."""
    advance_to(conn, contact_id, CUSTOMER, actor=ActorKind.SALES, actor_id=actor_id, why=why, now=now)
    if CUSTOMER_JOURNEY not in outbox.journeys_of(conn, [contact_id]).get(contact_id, []):
        outbox.write(conn, outbox.enroll_rows(contact_id, [CUSTOMER_JOURNEY]), now)
