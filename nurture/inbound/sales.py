"""Recording sales' verdict on a handoff, for every door (the CRM's HTTP call, the CLI).

The verdict itself is written by `nurture.verdicts` (one conditional write, the first verdict wins); a door also
queues it to the transactional outbox in the same transaction, naming the handoff, so it reaches the journey
even while Temporal is down and never counts for a newer handoff.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from definitions.leads.stages import RECYCLED, SAL
from nurture import temporal_names
from nurture.inbound import outbox
from nurture.inbound.routing import OutboxSignal
from nurture.lifecycle.stages import move_stage
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
    return Verdict(handoff_id, taken.status, queued=True)
