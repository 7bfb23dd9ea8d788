"""Database models (SQLModel) and the engine; importing this package registers every table."""

from nurture.db.broadcast import Broadcast, BroadcastDelivery, BroadcastState
from nurture.db.consent import Consent, ConsentAction, LawfulBasis
from nurture.db.console import ConsoleAudit, ConsoleSession, ConsoleUser
from nurture.db.contact import Contact, ContactBase, ContactStatus, Enrollment, Visitor
from nurture.db.event import Event, SignalOutbox
from nurture.db.funnel import FUNNEL_INDEXES, FunnelCount, FunnelMark, FunnelWatermark
from nurture.db.rejected_event import RejectedEvent
from nurture.db.sales import Handoff, HandoffStatus, Score
from nurture.db.touch import OutboxEmail, Touch, TouchStatus

__all__ = [
    "FUNNEL_INDEXES",
    "Broadcast",
    "BroadcastDelivery",
    "BroadcastState",
    "Consent",
    "ConsentAction",
    "ConsoleAudit",
    "ConsoleSession",
    "ConsoleUser",
    "Contact",
    "ContactBase",
    "ContactStatus",
    "Enrollment",
    "Event",
    "FunnelCount",
    "FunnelMark",
    "FunnelWatermark",
    "Handoff",
    "HandoffStatus",
    "LawfulBasis",
    "OutboxEmail",
    "RejectedEvent",
    "Score",
    "SignalOutbox",
    "Touch",
    "TouchStatus",
    "Visitor",
]
