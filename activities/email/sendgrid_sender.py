"""The production sender: SendGrid's Mail Send API through the official client.

What the client raises was checked against a real HTTP server: HTTP errors are `python_http_client` HTTPError
subclasses with `status_code`; a failure to connect or to write the request is `urllib.error.URLError` (the
request never completed, so SendGrid cannot have accepted it); a read timeout after the request was written is
a bare `TimeoutError`, and a dropped connection an `OSError`/`http.client.HTTPException`: outcome unknown.
"""

from __future__ import annotations

import http.client
import json
import math
import urllib.error
from datetime import timedelta
from typing import Any

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient

from activities.email.message import OutgoingEmail, SendNotAccepted, SendOutcomeUnknown, SendRefused
from nurture.clock import utcnow

RETRYABLE_STATUSES = frozenset({408, 429})


class SendGridSender:
    name = "sendgrid"

    def __init__(self, api_key: str, host: str, timeout_seconds: float) -> None:
        self._client = SendGridAPIClient(api_key=api_key, host=host)
        self._client.client.timeout = timeout_seconds  # the library has no timeout by default

    def send(self, email: OutgoingEmail) -> str | None:
        try:
            response = self._client.send(mail_body(email))
        except HTTPError as err:
            raise _classify(err) from None
        except urllib.error.URLError as err:
            raise SendNotAccepted(f"SendGrid unreachable: {err.reason}") from err
        except (TimeoutError, OSError, http.client.HTTPException) as err:
            raise SendOutcomeUnknown(f"no answer from SendGrid ({type(err).__name__}: {err})") from err
        message_id = response.headers.get("X-Message-Id")
        return str(message_id) if message_id else None


def mail_body(email: OutgoingEmail) -> dict[str, Any]:
    """The Mail Send v3 JSON for one email.

    SendGrid's click tracking is switched off: links are already signed nurture redirects, and wrapping them
    again would hide the item and the contact from our own click endpoint.
    """
    to: dict[str, str] = {"email": email.to_email}
    if email.to_name:
        to["name"] = email.to_name
    sender: dict[str, str] = {"email": email.from_email}
    if email.from_name:
        sender["name"] = email.from_name
    return {
        "personalizations": [{"to": [to]}],
        "from": sender,
        "subject": email.subject,
        "content": [{"type": "text/plain", "value": email.text}, {"type": "text/html", "value": email.html}],
        "headers": dict(email.headers),
        "custom_args": dict(email.custom_args),
        "tracking_settings": {"click_tracking": {"enable": False, "enable_text": False}},
    }


def _classify(err: HTTPError) -> SendRefused | SendNotAccepted:
    status = int(err.status_code)
    detail = f"SendGrid {status}: {_first_error(err.body)}"
    if status in RETRYABLE_STATUSES or status >= 500:
        return SendNotAccepted(detail, status, _retry_after(err) if status == 429 else None)
    return SendRefused(detail, status)


def _first_error(body: bytes | str | None) -> str:
    if not body:
        return "no details"
    try:
        errors = json.loads(body)["errors"]
        return "; ".join(str(e.get("message", "")) for e in errors)[:400]
    except (ValueError, KeyError, TypeError):
        text = body.decode(errors="replace") if isinstance(body, bytes) else body
        return text[:400]


def _retry_after(err: HTTPError) -> timedelta | None:
    """SendGrid's X-RateLimit-Reset is the epoch second when the limit resets."""
    headers = getattr(err, "headers", None)
    reset = headers.get("X-RateLimit-Reset") if headers is not None else None
    if reset is None:
        return None
    try:
        wait = float(reset) - utcnow().timestamp()
    except ValueError:
        return None
    return timedelta(seconds=max(1, math.ceil(wait)))
