"""Emails and the API sign URLs with one builder (`nurture.links`): what a drop carries is exactly what the API
verifies, and profile text reaches the HTML escaped."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

from activities.email.render import Drop, DropRenderer
from nurture import links, tokens
from nurture.db import Contact
from tests.activities.helpers import T0, TRACKING_SECRET, outbox_settings
from workflows.dsl import ContentItem

ITEM = ContentItem(
    id="ll-guide",
    subject="For $first_name at $company",
    body="Hi $first_name,\n\nRead https://ledgerline.example/guide today.\n\nBest, the team",
)


def rendered(first_name: str = "Ada", company: str = "Acme") -> tuple[str, str, dict[str, str]]:
    contact = Contact(
        id=42, email="ada@example.com", first_name=first_name, company=company, created_at=T0, updated_at=T0
    )
    out = DropRenderer(outbox_settings()).render(Drop(contact, ITEM, 7, "b2b_drip", None, T0))
    return out.text, out.html, out.headers


def test_a_drop_carries_exactly_the_urls_nurture_links_builds() -> None:
    settings = outbox_settings()
    text, body, headers = rendered()

    click = links.click_url(settings, "https://ledgerline.example/guide", 42, item_id="ll-guide", touch_id=7)
    pixel = links.open_pixel_url(settings, 42, item_id="ll-guide", touch_id=7)
    assert click in text and html.escape(click) in body
    assert html.escape(pixel) in body
    assert headers == links.list_unsubscribe_headers(settings, 42, 7)
    unsubscribe = headers["List-Unsubscribe"].strip("<>")
    assert unsubscribe in text
    token = urlsplit(unsubscribe).path.removeprefix("/u/")
    assert tokens.verify(TRACKING_SECRET, "unsubscribe", token) == {"contact_id": "42", "touch_id": "7"}


def test_profile_text_is_escaped_in_the_html_and_never_becomes_a_tracked_link() -> None:
    text, body, _ = rendered(first_name='<a href="https://evil.example">Ada</a>')

    assert '<a href="https://evil.example">' not in body
    assert "&lt;a href=&quot;https://evil.example&quot;&gt;Ada&lt;/a&gt;" in body
    tracked = re.findall(r"/t/c/([\w-]+\.[\w-]+)", text)
    assert [tokens.verify(TRACKING_SECRET, "click", t)["url"] for t in tracked] == ["https://ledgerline.example/guide"]
