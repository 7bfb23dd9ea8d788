"""The double opt-in confirmation email.

Until the activities' email sender offers a transactional send, the confirmation is written to the dev outbox
(`OutboxEmail`, with a `Touch` on channel "transactional" so drop-gap checks can tell it from a drop).
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from nurture.config import Settings
from nurture.db import OutboxEmail, Touch, TouchStatus
from nurture.ingest.outbox import table
from nurture.ingest.store import CONTACT
from nurture.links import confirm_url

TOUCH = table(Touch)
OUTBOX_EMAIL = table(OutboxEmail)
JOURNEY = "opt_in"


def send_confirmation(conn: Connection, settings: Settings, contact_id: int, now: datetime) -> str:
    """Write the confirmation email for the contact; returns the confirmation URL."""
    c = CONTACT.c
    email, first_name = conn.execute(select(c.email, c.first_name).where(c.id == contact_id)).one()
    url = confirm_url(settings, contact_id, now)
    touch_id = conn.execute(
        insert(TOUCH)
        .values(
            idempotency_key=f"confirm/contact-{contact_id}/{int(now.timestamp() * 1000)}",
            contact_id=contact_id,
            journey=JOURNEY,
            workflow_id="",
            step="confirm subscription",
            item_id="confirm-subscription",
            channel="transactional",
            sender="outbox",
            status=TouchStatus.SENT.value,
            reason="double opt-in confirmation",
            created_at=now,
            sent_at=now,
        )
        .returning(TOUCH.c.id)
    ).scalar_one()
    hello = f"Hi {first_name}," if first_name else "Hi,"
    text = f"{hello}\n\nPlease confirm your subscription: {url}\n\nIf you did not ask for this, ignore this email."
    html = (
        f'<p>{escape(hello)}</p><p><a href="{escape(url)}">Confirm your subscription</a></p>'
        "<p>If you did not ask for this, ignore this email.</p>"
    )
    conn.execute(
        insert(OUTBOX_EMAIL).values(
            touch_id=touch_id,
            to_email=email,
            subject=f"Confirm your subscription to {settings.from_name}",
            html=html,
            text=text,
            headers={},
            custom_args={},
            created_at=now,
        )
    )
    return url
