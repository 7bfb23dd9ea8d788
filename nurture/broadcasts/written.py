"""Content a marketer writes for a broadcast: `{first_name}`-style fields checked against the allowed ones.

The marketer's text becomes a `string.Template` (the form the drop renderer fills in): `{field}` turns into
`${field}` and a literal `$` is kept literal. A field outside `TEMPLATE_FIELDS` is refused with the allowed list.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from nurture.clock import utcnow
from nurture.db.broadcast_content import BroadcastContent
from workflows.dsl.content import TEMPLATE_FIELDS, ContentItem, written_item_id

_FIELD = re.compile(r"\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}")


class WrittenContent(BaseModel):
    """A subject and a body written by a marketer, with `{first_name}`, `{company}`, ... fields."""

    subject: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=20000)


def to_template(text: str, what: str) -> str:
    """The marketer's text as a `string.Template`; refuses unknown fields."""
    if "\x00" in text:
        raise ValueError(f"{what}: NUL characters are not allowed")  # PostgreSQL cannot store them
    unknown = sorted({m.group(1) for m in _FIELD.finditer(text)} - TEMPLATE_FIELDS)
    if unknown:
        allowed = ", ".join("{" + f + "}" for f in sorted(TEMPLATE_FIELDS))
        raise ValueError(f"{what}: unknown fields {', '.join(unknown)}; use {allowed}")
    return _FIELD.sub(lambda m: "${" + m.group(1) + "}", text.replace("$", "$$"))


def written(content: WrittenContent, item_id: str, kind: str) -> ContentItem:
    """The item the broadcast drops, checked exactly as the drop renderer will read it (ValueError if bad)."""
    subject = to_template(content.subject.strip(), "subject")
    if "\n" in subject or "\r" in subject:
        raise ValueError("subject: one line only")
    return ContentItem(id=item_id, subject=subject, body=to_template(content.body, "body"), kind=kind)


def written_draft(
    content: WrittenContent, broadcast_id: str, kind: str, created_by: str
) -> tuple[ContentItem, BroadcastContent]:
    """The item a written broadcast drops (`broadcast:<id>`) and the content row stored with it; ValueError for
    unknown template fields."""
    item = written(content, written_item_id(broadcast_id), kind)
    row = BroadcastContent(
        broadcast_id=broadcast_id, subject=item.subject, body=item.body, written_by=created_by, written_at=utcnow()
    )
    return item, row
