"""One Core table handle per model, made here only: bulk, conditional and reporting statements skip the ORM
and use these (`table` is for a model this list lacks)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from nurture.db import (
    Attendance,
    Broadcast,
    BroadcastContent,
    BroadcastDelivery,
    BulkOperation,
    BulkOperationItem,
    CallTask,
    Consent,
    ConsoleAudit,
    ConsoleSession,
    ConsoleUser,
    Contact,
    ContactFact,
    DeferredDrop,
    Enrollment,
    ErasedAddress,
    Erasure,
    Event,
    ExternalRef,
    FunnelCount,
    FunnelMark,
    FunnelWatermark,
    Handoff,
    Lead,
    OutboxEmail,
    Owner,
    Preference,
    Purchase,
    RejectedEvent,
    RoutingCursor,
    Score,
    SignalOutbox,
    SignupInbox,
    StageChange,
    Touch,
    UpliftSnapshot,
    Visitor,
)


def table(model: type[SQLModel]) -> Table:
    """The Core table behind a SQLModel class."""
    return model.__table__  # type: ignore[attr-defined, no-any-return]


ATTENDANCE = table(Attendance)
BROADCAST = table(Broadcast)
BROADCAST_CONTENT = table(BroadcastContent)
BROADCAST_DELIVERY = table(BroadcastDelivery)
BULK_OPERATION = table(BulkOperation)
BULK_OPERATION_ITEM = table(BulkOperationItem)
CALL_TASK = table(CallTask)
CONSENT = table(Consent)
CONSOLE_AUDIT = table(ConsoleAudit)
CONSOLE_SESSION = table(ConsoleSession)
CONSOLE_USER = table(ConsoleUser)
CONTACT = table(Contact)
CONTACT_FACT = table(ContactFact)
DEFERRED_DROP = table(DeferredDrop)
ENROLLMENT = table(Enrollment)
ERASED_ADDRESS = table(ErasedAddress)
ERASURE = table(Erasure)
EVENT = table(Event)
EXTERNAL_REF = table(ExternalRef)
FUNNEL_COUNT = table(FunnelCount)
FUNNEL_MARK = table(FunnelMark)
FUNNEL_WATERMARK = table(FunnelWatermark)
HANDOFF = table(Handoff)
LEAD = table(Lead)
OUTBOX_EMAIL = table(OutboxEmail)
OWNER = table(Owner)
PREFERENCE = table(Preference)
PURCHASE = table(Purchase)
REJECTED_EVENT = table(RejectedEvent)
ROUTING_CURSOR = table(RoutingCursor)
SCORE = table(Score)
SIGNAL_OUTBOX = table(SignalOutbox)
SIGNUP_INBOX = table(SignupInbox)
STAGE_CHANGE = table(StageChange)
TOUCH = table(Touch)
UPLIFT_SNAPSHOT = table(UpliftSnapshot)
VISITOR = table(Visitor)


def upsert(conn: Connection, tbl: Table) -> Any:
    """`INSERT` of the connection's dialect, which has `on_conflict_do_nothing/do_update` on both backends
    (typed Any: the two dialects' Insert classes share the methods but no base class declares them)."""
    return postgresql.insert(tbl) if conn.dialect.name == "postgresql" else sqlite.insert(tbl)
