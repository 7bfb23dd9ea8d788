"""Render a catalog item for one contact: personalised text and HTML, signed tracking links, RFC 8058 headers.

- Links the author wrote become signed click redirects `{base}/t/c/{token}` (the token carries the exact URL,
  so the redirect cannot be abused); the HTML gets an open pixel `{base}/t/o/{token}.gif`.
- Every drop carries `List-Unsubscribe: <{base}/u/{token}>` and `List-Unsubscribe-Post:
  List-Unsubscribe=One-Click` (Gmail and Yahoo require one-click unsubscribe), and the same link in the footer.
- `custom_args` carry only ids: SendGrid echoes them on every event, which routes events back to the touch.
"""

from __future__ import annotations

import html
import re
import string
from dataclasses import dataclass
from datetime import datetime

from nurture import sendgrid_args, tokens
from nurture.config import Settings
from nurture.db import Contact
from workflows.dsl import ContentItem

_URL = re.compile(r"https?://[^\s<>\"')\]]+[^\s<>\"')\].,;:!?]")

FOOTER_TEXT = "You receive these emails because you asked to hear from us. Unsubscribe: {url}"
FOOTER_HTML = (
    '<p style="font-size:12px;color:#666">You receive these emails because you asked to hear from us. '
    '<a href="{url}">Unsubscribe</a></p>'
)


@dataclass(frozen=True)
class Drop:
    """What the renderer needs to know about one send (ids only, besides the contact row)."""

    contact: Contact
    item: ContentItem
    touch_id: int
    journey: str
    broadcast_id: str | None
    now: datetime


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    headers: dict[str, str]
    custom_args: dict[str, str]


class DropRenderer:
    def __init__(self, settings: Settings) -> None:
        self._base = settings.public_base_url.rstrip("/")
        self._secret = settings.tracking_secret.get_secret_value()

    def unsubscribe_url(self, contact_id: int, touch_id: int) -> str:
        token = tokens.sign(self._secret, "unsubscribe", {"contact_id": str(contact_id), "touch_id": str(touch_id)})
        return f"{self._base}/u/{token}"

    def click_url(self, ids: dict[str, str], url: str) -> str:
        return f"{self._base}/t/c/{tokens.sign(self._secret, 'click', {**ids, 'url': url})}"

    def open_pixel_url(self, ids: dict[str, str]) -> str:
        return f"{self._base}/t/o/{tokens.sign(self._secret, 'open', ids)}.gif"

    def render(self, drop: Drop) -> Rendered:
        contact_id = str(drop.contact.id)
        ids = {"contact_id": contact_id, "touch_id": str(drop.touch_id), "item_id": drop.item.id}
        unsubscribe = self.unsubscribe_url(int(contact_id), drop.touch_id)
        fields = {
            "first_name": drop.contact.first_name or "there",
            "last_name": drop.contact.last_name,
            "company": drop.contact.company or "your company",
            "unsubscribe_url": unsubscribe,
            "preferences_url": unsubscribe,  # the unsubscribe page is also where preferences live
        }
        # Split the author's text around links first, so only the author's links are tracked (never a URL a
        # contact typed into their own company name, nor the unsubscribe link).
        text_parts: list[str] = []
        html_parts: list[str] = []
        position = 0
        for match in _URL.finditer(drop.item.body):
            plain = string.Template(drop.item.body[position : match.start()]).safe_substitute(fields)
            tracked = self.click_url(ids, match.group())
            text_parts.append(plain + tracked)
            html_parts.append(html.escape(plain) + f'<a href="{html.escape(tracked)}">{html.escape(match.group())}</a>')
            position = match.end()
        tail = string.Template(drop.item.body[position:]).safe_substitute(fields)
        text_parts.append(tail)
        html_parts.append(html.escape(tail))

        text = "".join(text_parts).strip() + "\n\n-- \n" + FOOTER_TEXT.format(url=unsubscribe) + "\n"
        paragraphs = "".join(html_parts).strip().split("\n\n")
        body_html = "".join(f"<p>{p.replace(chr(10), '<br>')}</p>\n" for p in paragraphs)
        pixel = f'<img src="{html.escape(self.open_pixel_url(ids))}" width="1" height="1" alt="">'
        document = (
            '<!doctype html>\n<html><head><meta charset="utf-8"></head><body>\n'
            f"{body_html}{FOOTER_HTML.format(url=html.escape(unsubscribe))}\n{pixel}\n</body></html>\n"
        )
        custom_args = {
            sendgrid_args.CUSTOM_ARG_CONTACT: contact_id,
            sendgrid_args.CUSTOM_ARG_JOURNEY: drop.journey,
            sendgrid_args.CUSTOM_ARG_ITEM: drop.item.id,
            sendgrid_args.CUSTOM_ARG_TOUCH: str(drop.touch_id),
        }
        if drop.broadcast_id:
            custom_args[sendgrid_args.CUSTOM_ARG_BROADCAST] = drop.broadcast_id
        return Rendered(
            subject=string.Template(drop.item.subject).safe_substitute(fields),
            text=text,
            html=document,
            headers={"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
            custom_args=custom_args,
        )
