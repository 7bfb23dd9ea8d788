"""Signed URLs nurture renders into emails and pages: open pixel, click redirect, unsubscribe, confirm.

The one builder of signed URLs: emails (`activities.email.render`), the confirmation email and the API all use
it (paths `/t/o/{token}.gif`, `/t/c/{token}`, `/u/{token}`, `/confirm/{token}`; fields `contact_id`, `touch_id`,
`item_id`, `url`), so the API serves exactly what emails carry. Every drop carries
RFC 8058 one-click unsubscribe headers (`list_unsubscribe_headers`). Tokens are HMAC-signed
(`nurture.tokens`): no one can forge an event for another contact, and a click redirect goes only to the URL
that was signed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from nurture import tokens
from nurture.config import Settings

CONFIRM_VALID_FOR = timedelta(days=7)


def _secret(settings: Settings) -> str:
    return settings.tracking_secret.get_secret_value()


def _url(settings: Settings, path: str) -> str:
    return settings.public_base_url.rstrip("/") + path


def _ids(contact_id: int, item_id: str | None, touch_id: int | None) -> dict[str, str]:
    fields = {"contact_id": str(int(contact_id))}
    if item_id is not None:
        fields["item_id"] = item_id
    if touch_id is not None:
        fields["touch_id"] = str(int(touch_id))
    return fields


def contact_token(settings: Settings, contact_id: int) -> str:
    """Lets a browser act for the contact on /track and /identify (returned by POST /contacts)."""
    return tokens.sign(_secret(settings), "contact", {"contact_id": str(int(contact_id))})


def unsubscribe_url(settings: Settings, contact_id: int, touch_id: int | None = None) -> str:
    """GET shows a confirmation page; POST (RFC 8058 one-click) unsubscribes at once. Never expires."""
    return _url(settings, "/u/" + tokens.sign(_secret(settings), "unsubscribe", _ids(contact_id, None, touch_id)))


def preferences_url(settings: Settings, contact_id: int) -> str:
    """The preference center (`nurture.api.preferences`): GET shows topics, frequency and snooze; POST changes."""
    return _url(settings, "/p/" + tokens.sign(_secret(settings), "preferences", _ids(contact_id, None, None)))


def list_unsubscribe_headers(settings: Settings, contact_id: int, touch_id: int | None = None) -> dict[str, str]:
    """The headers every drop must carry (Gmail and Yahoo require one-click unsubscribe)."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(settings, contact_id, touch_id)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def open_pixel_url(
    settings: Settings, contact_id: int, *, item_id: str | None = None, touch_id: int | None = None
) -> str:
    token = tokens.sign(_secret(settings), "open", _ids(contact_id, item_id, touch_id))
    return _url(settings, f"/t/o/{token}.gif")


def click_url(
    settings: Settings, url: str, contact_id: int, *, item_id: str | None = None, touch_id: int | None = None
) -> str:
    """A tracked link that redirects to exactly `url` (http or https only)."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"only http(s) links can be tracked, got {url!r}")
    fields = {**_ids(contact_id, item_id, touch_id), "url": url}
    return _url(settings, "/t/c/" + tokens.sign(_secret(settings), "click", fields))


def confirm_url(settings: Settings, contact_id: int, now: datetime) -> str:
    """The double opt-in link; valid for a week, and never after the contact opted out again."""
    fields = {"contact_id": str(int(contact_id)), "iat_ms": str(int(now.timestamp() * 1000))}
    token = tokens.sign(_secret(settings), "confirm", fields, expires_at=now + CONFIRM_VALID_FOR)
    return _url(settings, f"/confirm/{token}")
