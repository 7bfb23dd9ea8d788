"""A broadcast's content rendered for one sample contact, exactly as the drop renderer will write it.

Signed links (unsubscribe, click, open pixel) are shown as placeholders: a preview page, or the audit record it
is stored in, must never carry a working unsubscribe token for the sample contact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from activities.email.render import Drop, DropRenderer
from nurture.clock import utcnow
from nurture.config import Settings
from nurture.db import Contact
from workflows.dsl import CATALOGS, ContentItem


@dataclass(frozen=True)
class RenderedSample:
    contact_id: int
    subject: str
    text: str
    html: str  # the HTML source; templates show it escaped, never as markup


def broadcast_items() -> list[ContentItem]:
    """Items a marketer can broadcast: the broadcast catalog first, then every journey catalog's items."""
    items: list[ContentItem] = []
    seen: set[str] = set()
    names = ["broadcasts", *sorted(n for n in CATALOGS if n != "broadcasts")]
    for name in names:
        if name in CATALOGS:
            for item in CATALOGS[name].items:
                if item.id not in seen:
                    seen.add(item.id)
                    items.append(item)
    return items


def render_sample(settings: Settings, contact: Contact, item: ContentItem, journey: str) -> RenderedSample:
    rendered = DropRenderer(settings).render(Drop(contact, item, 0, journey, None, utcnow()))
    signed = re.compile(re.escape(settings.public_base_url.rstrip("/")) + r"/(u|t/c|t/o)/[A-Za-z0-9._~=-]+")

    def mask(text: str) -> str:
        return signed.sub(lambda m: f"[signed {'unsubscribe' if m.group(1) == 'u' else 'tracking'} link]", text)

    assert contact.id is not None
    return RenderedSample(contact.id, rendered.subject, mask(rendered.text), mask(rendered.html))
