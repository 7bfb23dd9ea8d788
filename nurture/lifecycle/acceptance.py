"""What a sales verdict does to the contact's life: the one place it happens, reached from `nurture.verdicts`.

`take_verdict` calls `after_verdict` whenever a verdict is newly recorded, whichever way it came: the CRM's HTTP
door or the CLI (`nurture.inbound.sales.record_verdict`), or the journey's own activity when the journey heard
the verdict directly as a signal. Accepted: the contact is sales accepted (sal), becomes a customer and is
enrolled in the customer journey (`definitions.leads.stages.CUSTOMER_JOURNEY`) by an outbox `ENROLL` row.
Rejected: recycled into nurture, with sales' reason.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from definitions.leads.stages import CUSTOMER, CUSTOMER_JOURNEY, RECYCLED, SAL
from nurture.inbound import outbox
from nurture.lifecycle.stages import advance_to, move_stage
from workflows.lifecycle import ActorKind


def after_verdict(
    conn: Connection, contact_id: int, handoff_id: int, accepted: bool, reason: str, now: datetime
) -> None:
    """Move the stage for a verdict just recorded on `handoff_id` (sales may move a lead back: recycled)."""
    why = reason or ("accepted by sales" if accepted else "rejected by sales")
    actor_id = f"handoff-{handoff_id}"
    stage = SAL if accepted else RECYCLED
    move_stage(conn, contact_id, stage, actor=ActorKind.SALES, actor_id=actor_id, why=why, now=now)
    if accepted:
        become_customer(conn, contact_id, f"accepted by sales: {why}", actor_id, now)


def become_customer(conn: Connection, contact_id: int, why: str, actor_id: str, now: datetime) -> None:
    """Forward to customer (never pulls an advocate back) and enroll the customer journey unless already in it."""
    advance_to(conn, contact_id, CUSTOMER, actor=ActorKind.SALES, actor_id=actor_id, why=why, now=now)
    if CUSTOMER_JOURNEY not in outbox.journeys_of(conn, [contact_id]).get(contact_id, []):
        outbox.write(conn, outbox.enroll_rows(contact_id, [CUSTOMER_JOURNEY]), now)
