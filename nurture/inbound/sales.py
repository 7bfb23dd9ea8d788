"""Recording sales' verdict on a handoff, for every door (the CRM's HTTP call, the CLI).

The verdict itself is written by `nurture.verdicts` (one conditional write, the first verdict wins); for a door it
also queues the verdict to the transactional outbox in the same transaction, naming the handoff, so it reaches the
journey even while Temporal is down and never counts for a newer handoff.

What the verdict does to the contact's stage (sal and customer, or recycled) happens in `nurture.verdicts`, the
one writer every path reaches (`nurture.lifecycle.acceptance`): a verdict the journey heard directly moves it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from nurture.verdicts import Taken, UnknownHandoffError, VerdictRefusedError, open_handoff, take_verdict

__all__ = ["UnknownHandoffError", "Verdict", "VerdictRefusedError", "open_handoff", "record_verdict"]


@dataclass(frozen=True)
class Verdict:
    handoff_id: int
    status: str
    queued: bool  # False: the same verdict was recorded before (nothing new to tell the journey)


def record_verdict(conn: Connection, handoff_id: int, accepted: bool, reason: str, now: datetime) -> Verdict:
    """Record the verdict and queue it for the journey (raises `VerdictRefusedError`, `UnknownHandoffError`)."""
    taken = take_verdict(conn, handoff_id, accepted, reason, now, tell_journey=True)
    return Verdict(handoff_id, taken.status, queued=taken.taken is Taken.RECORDED)
