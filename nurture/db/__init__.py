"""Database models (SQLModel) and the engine; importing this package registers every table."""

from nurture.db.broadcast import Broadcast, BroadcastDelivery, BroadcastState
from nurture.db.contact import Contact, ContactBase, ContactStatus, Enrollment, Visitor
from nurture.db.event import Event, SignalOutbox
from nurture.db.imports import Attendance, ContactFact, ExternalRef, Purchase
from nurture.db.lifecycle import Lead, StageChange
from nurture.db.owner import Owner, RoutingCursor
from nurture.db.sales import Handoff, HandoffStatus, Score
from nurture.db.touch import OutboxEmail, Touch, TouchStatus

__all__ = [
    "Attendance",
    "Broadcast",
    "BroadcastDelivery",
    "BroadcastState",
    "Contact",
    "ContactBase",
    "ContactFact",
    "ContactStatus",
    "Enrollment",
    "Event",
    "ExternalRef",
    "Handoff",
    "HandoffStatus",
    "Lead",
    "OutboxEmail",
    "Owner",
    "Purchase",
    "RoutingCursor",
    "Score",
    "SignalOutbox",
    "StageChange",
    "Touch",
    "TouchStatus",
    "Visitor",
]
