"""The double opt-in confirmation email, written in the same transaction as the contact.

The message is an `OutboxEmail` with a `Touch` on channel "transactional" (drop-gap checks tell it from a drop).
With an email provider configured the touch is `queued` and `nurture.outbound.mailer` sends it; without one (the
embedded default) the dev outbox is the mailbox and the touch is `sent` at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from nurture.config import Settings
from nurture.db import ConsentAction, TouchStatus
from nurture.db.tables import CONSENT, CONTACT, OUTBOX_EMAIL, TOUCH
from nurture.links import confirm_url
from nurture.outbound.mailer import TRANSACTIONAL

JOURNEY = "opt_in"
# Anyone can type an address into a form: at most this many confirmation emails per address and window, counted
# from the touches in the database (so the limit holds across API processes).
RATE_LIMITS = ((1, timedelta(minutes=10)), (5, timedelta(days=1)))


def may_send_confirmation(conn: Connection, contact_id: int, now: datetime) -> bool:
    """True while the address is under every confirmation rate limit.

    Only confirmations sent since the contact last confirmed or withdrew count: those were answered, so someone
    who unsubscribes and signs up again within minutes still gets a link.
    """
    t, k = TOUCH.c, CONSENT.c
    answered = conn.execute(
        select(func.max(k.recorded_at)).where(
            k.contact_id == contact_id, k.action.in_([ConsentAction.CONFIRMED.value, ConsentAction.WITHDRAWN.value])
        )
    ).scalar()
    longest = max(window for _, window in RATE_LIMITS)
    since = now - longest if answered is None else max(now - longest, answered)
    sent = conn.execute(
        select(t.created_at).where(t.contact_id == contact_id, t.journey == JOURNEY, t.created_at >= since)
    ).scalars()
    times = list(sent)
    return all(sum(1 for at in times if at > now - window) < most for most, window in RATE_LIMITS)


def offer_confirmation(conn: Connection, settings: Settings, contact_id: int, now: datetime) -> bool:
    """Send the confirmation email unless the address is over its rate limit; True if written."""
    c = CONTACT.c
    lock = select(c.id).where(c.id == contact_id)
    if conn.dialect.name == "postgresql":
        conn.execute(lock.with_for_update())  # two processes asking at once count one after the other
    if not may_send_confirmation(conn, contact_id, now):
        return False
    send_confirmation(conn, settings, contact_id, now)
    return True


def send_confirmation(conn: Connection, settings: Settings, contact_id: int, now: datetime) -> str:
    """Write the confirmation email for the contact; returns the confirmation URL."""
    c = CONTACT.c
    email, first_name = conn.execute(select(c.email, c.first_name).where(c.id == contact_id)).one()
    url = confirm_url(settings, contact_id, now)
    dev_outbox = settings.sendgrid_api_key is None
    touch_id = conn.execute(
        insert(TOUCH)
        .values(
            idempotency_key=f"confirm/contact-{contact_id}/{int(now.timestamp() * 1000)}",
            contact_id=contact_id,
            journey=JOURNEY,
            workflow_id="",
            step="confirm subscription",
            item_id="confirm-subscription",
            channel=TRANSACTIONAL,
            sender="outbox" if dev_outbox else "sendgrid",
            status=(TouchStatus.SENT if dev_outbox else TouchStatus.QUEUED).value,
            reason="double opt-in confirmation",
            created_at=now,
            sent_at=now if dev_outbox else None,
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
