"""Database models (SQLModel) and the engine; importing this package registers every table."""

from nurture.db.broadcast import Broadcast, BroadcastDelivery, BroadcastState
from nurture.db.contact import Contact, ContactBase, ContactStatus, Enrollment, Visitor
from nurture.db.event import Event, SignalOutbox
from nurture.db.rejected_event import RejectedEvent
from nurture.db.sales import Handoff, HandoffStatus, Score
from nurture.db.touch import OutboxEmail, Touch, TouchStatus

__all__ = [
    "Broadcast",
    "BroadcastDelivery",
    "BroadcastState",
    "Contact",
    "ContactBase",
    "ContactStatus",
    "Enrollment",
    "Event",
    "Handoff",
    "HandoffStatus",
    "OutboxEmail",
    "RejectedEvent",
    "Score",
    "SignalOutbox",
    "Touch",
    "TouchStatus",
    "Visitor",
]
