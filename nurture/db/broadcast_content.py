"""Content a marketer wrote for one broadcast (subject and body), owned by that broadcast.

The broadcast drops the item `broadcast:<id>` (`workflows.dsl.content.written_item_id`); the drop activity turns
this row into a `ContentItem` when it sends. One writer: `add_content`, called with the broadcast's own insert.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Text
from sqlmodel import Field, Session, SQLModel

from nurture.db.types import UTCDateTime
from workflows.dsl.content import WRITTEN_PREFIX, ContentItem

__all__ = ["BroadcastContent", "add_content", "written_item"]


class BroadcastContent(SQLModel, table=True):
    broadcast_id: str = Field(
        sa_column=Column(String(64), ForeignKey("broadcast.id", ondelete="CASCADE"), primary_key=True)
    )
    subject: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))  # a string.Template over TEMPLATE_FIELDS
    written_by: str = Field(max_length=120)
    written_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


def add_content(session: Session, row: BroadcastContent) -> None:
    """The one writer: store a broadcast's content (the broadcast row must be in the same unit of work)."""
    session.add(row)
    session.flush()


def written_item(session: Session, item_id: str, kind: str = "announcement") -> ContentItem | None:
    """The item a written broadcast drops, from its stored content (None if there is none)."""
    if not item_id.startswith(WRITTEN_PREFIX):
        return None
    row = session.get(BroadcastContent, item_id.removeprefix(WRITTEN_PREFIX))
    if row is None:
        return None
    return ContentItem(id=item_id, subject=row.subject, body=row.body, kind=kind)
