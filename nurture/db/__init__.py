"""Database models (SQLModel) and the engine; importing this package registers every table."""

from nurture.db.broadcast import Broadcast, BroadcastDelivery, BroadcastState
from nurture.db.broadcast_content import BroadcastContent
from nurture.db.bulk import BulkAction, BulkOperation, BulkOperationItem, BulkState
from nurture.db.call_task import CallTask
from nurture.db.consent import Consent, ConsentAction, LawfulBasis
from nurture.db.console import ConsoleAudit, ConsoleSession, ConsoleUser
from nurture.db.contact import Contact, ContactBase, ContactStatus, Enrollment, Visitor
from nurture.db.deferral import DeferredDrop, DeferredState, DropPriority
from nurture.db.erasure import ErasedAddress, Erasure
from nurture.db.event import Event, SignalOutbox
from nurture.db.funnel import FUNNEL_INDEXES, FunnelCount, FunnelMark, FunnelWatermark
from nurture.db.imports import Attendance, ContactFact, ExternalRef, Purchase
from nurture.db.lifecycle import Lead, StageChange
from nurture.db.owner import Owner, RoutingCursor
from nurture.db.preference import Preference
from nurture.db.rejected_event import RejectedEvent
from nurture.db.sales import Handoff, HandoffStatus, Score
from nurture.db.signup_inbox import SignupInbox
from nurture.db.touch import OutboxEmail, Touch, TouchStatus
from nurture.db.uplift import UpliftSnapshot

__all__ = [
    "FUNNEL_INDEXES",
    "Attendance",
    "Broadcast",
    "BroadcastContent",
    "BroadcastDelivery",
    "BroadcastState",
    "BulkAction",
    "BulkOperation",
    "BulkOperationItem",
    "BulkState",
    "CallTask",
    "Consent",
    "ConsentAction",
    "ConsoleAudit",
    "ConsoleSession",
    "ConsoleUser",
    "Contact",
    "ContactBase",
    "ContactFact",
    "ContactStatus",
    "DeferredDrop",
    "DeferredState",
    "DropPriority",
    "Enrollment",
    "ErasedAddress",
    "Erasure",
    "Event",
    "ExternalRef",
    "FunnelCount",
    "FunnelMark",
    "FunnelWatermark",
    "Handoff",
    "HandoffStatus",
    "LawfulBasis",
    "Lead",
    "OutboxEmail",
    "Owner",
    "Preference",
    "Purchase",
    "RejectedEvent",
    "RoutingCursor",
    "Score",
    "SignalOutbox",
    "SignupInbox",
    "StageChange",
    "Touch",
    "TouchStatus",
    "UpliftSnapshot",
    "Visitor",
]
