"""Email senders: SendGrid in production, the database outbox in development. Chosen by settings."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from activities.email.message import (
    EmailSender,
    OutgoingEmail,
    SendError,
    SendNotAccepted,
    SendOutcomeUnknown,
    SendRefused,
)
from activities.email.outbox_sender import OutboxSender
from activities.email.sendgrid_sender import SendGridSender
from nurture.config import Settings

__all__ = [
    "EmailSender",
    "OutboxSender",
    "OutgoingEmail",
    "SendError",
    "SendGridSender",
    "SendNotAccepted",
    "SendOutcomeUnknown",
    "SendRefused",
    "build_sender",
]


def build_sender(settings: Settings, engine: Engine) -> EmailSender:
    """SendGrid when an API key is configured, otherwise the dev outbox."""
    if settings.sendgrid_api_key is not None:
        return SendGridSender(
            settings.sendgrid_api_key.get_secret_value(), settings.sendgrid_host, settings.sendgrid_timeout_seconds
        )
    return OutboxSender(engine)
