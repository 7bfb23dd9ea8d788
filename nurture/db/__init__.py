"""Database models (SQLModel) and the engine; importing this package registers every table."""

from nurture.db.broadcast import Broadcast, BroadcastDelivery, BroadcastState
from nurture.db.consent import Consent, ConsentAction, LawfulBasis
from nurture.db.contact import Contact, ContactBase, ContactStatus, Enrollment, Visitor
from nurture.db.event import Event, SignalOutbox
from nurture.db.sales import Handoff, HandoffStatus, Score
from nurture.db.touch import OutboxEmail, Touch, TouchStatus

__all__ = [
    "Broadcast",
    "BroadcastDelivery",
    "BroadcastState",
    "Consent",
    "ConsentAction",
    "Contact",
    "ContactBase",
    "ContactStatus",
    "Enrollment",
    "Event",
    "Handoff",
    "HandoffStatus",
    "LawfulBasis",
    "OutboxEmail",
    "Score",
    "SignalOutbox",
    "Touch",
    "TouchStatus",
    "Visitor",
]
