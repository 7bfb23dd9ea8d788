"""The Core tables behind the lifecycle models (bulk and conditional statements skip the ORM)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from nurture.db import (
    Attendance,
    Contact,
    ContactFact,
    Event,
    ExternalRef,
    Handoff,
    Lead,
    Owner,
    Purchase,
    RoutingCursor,
    Score,
    StageChange,
    Visitor,
)


def table(model: Any) -> Table:
    return model.__table__  # type: ignore[no-any-return]


CONTACT = table(Contact)
EVENT = table(Event)
VISITOR = table(Visitor)
SCORE = table(Score)
HANDOFF = table(Handoff)
LEAD = table(Lead)
STAGE_CHANGE = table(StageChange)
OWNER = table(Owner)
ROUTING_CURSOR = table(RoutingCursor)
EXTERNAL_REF = table(ExternalRef)
CONTACT_FACT = table(ContactFact)
PURCHASE = table(Purchase)
ATTENDANCE = table(Attendance)


def upsert(conn: Connection, tbl: Table) -> Any:
    """`INSERT` of the connection's dialect, which has `on_conflict_do_nothing/do_update` on both backends
    (typed Any: the two dialects' Insert classes share the methods but no base class declares them)."""
    return postgresql.insert(tbl) if conn.dialect.name == "postgresql" else sqlite.insert(tbl)
