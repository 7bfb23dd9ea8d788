"""What an email sender is given, what it may raise, and the sender interface.

Errors are classified by what they mean for a retry, not by where they came from:
- `SendRefused`: the provider refused this message for good (400/401/403/413): record it, never retry.
- `SendNotAccepted`: the provider certainly did not take it (429, 5xx, unreachable): a retry may send.
- `SendOutcomeUnknown`: the request went out but no answer came back (read timeout, reset): the message may
  have been sent, so nurture never sends it again (at most once).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol


@dataclass(frozen=True)
class OutgoingEmail:
    """A fully rendered drop for one contact (the only payload in nurture that holds an address)."""

    touch_id: int
    to_email: str
    to_name: str
    from_email: str
    from_name: str
    subject: str
    html: str
    text: str
    created_at: datetime
    headers: dict[str, str] = field(default_factory=dict)
    custom_args: dict[str, str] = field(default_factory=dict)


class SendError(Exception):
    """Base of the classified send errors; `detail` is safe to store and log (no addresses)."""

    def __init__(self, detail: str, status: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail[:500]
        self.status = status


class SendRefused(SendError):
    """Permanent refusal: do not retry this message."""


class SendNotAccepted(SendError):
    """The provider did not take the message; retry after `retry_after` if given."""

    def __init__(self, detail: str, status: int | None = None, retry_after: timedelta | None = None) -> None:
        super().__init__(detail, status)
        self.retry_after = retry_after


class SendOutcomeUnknown(SendError):
    """The provider may or may not have taken the message."""


class EmailSender(Protocol):
    """Sends one email; returns the provider's message id (or None) or raises a `SendError`."""

    name: str  # recorded on the touch: "sendgrid" | "outbox"

    def send(self, email: OutgoingEmail) -> str | None: ...
