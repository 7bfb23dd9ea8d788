"""Database models (SQLModel) and the engine; importing this package registers every table."""

from nurture.db.broadcast import Broadcast, BroadcastDelivery, BroadcastState
from nurture.db.bulk import BulkAction, BulkOperation, BulkOperationItem, BulkState
from nurture.db.contact import Contact, ContactBase, ContactStatus, Enrollment, Visitor
from nurture.db.deferral import DeferredDrop, DeferredState, DropPriority
from nurture.db.erasure import ErasedAddress, Erasure
from nurture.db.event import Event, SignalOutbox
from nurture.db.preference import Preference
from nurture.db.sales import Handoff, HandoffStatus, Score
from nurture.db.touch import OutboxEmail, Touch, TouchStatus

__all__ = [
    "Broadcast",
    "BroadcastDelivery",
    "BroadcastState",
    "BulkAction",
    "BulkOperation",
    "BulkOperationItem",
    "BulkState",
    "Contact",
    "ContactBase",
    "ContactStatus",
    "DeferredDrop",
    "DeferredState",
    "DropPriority",
    "Enrollment",
    "ErasedAddress",
    "Erasure",
    "Event",
    "Handoff",
    "HandoffStatus",
    "OutboxEmail",
    "Preference",
    "Score",
    "SignalOutbox",
    "Touch",
    "TouchStatus",
    "Visitor",
]
