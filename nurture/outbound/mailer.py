"""Transactional mail (the double opt-in confirmation) through the configured email provider.

`POST /contacts` writes the confirmation in the contact's own transaction: a `Touch` on channel "transactional"
with status `queued` and its rendered `OutboxEmail`. Nothing is sent inside a request, and nothing is lost if the
provider is down: the mailer, a background task of the API process next to the outbox relay, sends queued mail
with the same at-most-once rule as drops (see `activities.drop`):

    queued -> sending       claimed and committed before the provider is called
    sending -> sent         provider accepted (message id stored)
    sending -> queued       provider certainly did not take it (429, 5xx, unreachable): retried after a backoff
                            kept on the row (`next_attempt_at`), so any mailer honours it
    sending -> failed       provider refused it for good (4xx)
    sending -> unconfirmed  no answer: it may have gone out

A send of unknown outcome (`unconfirmed`, or a claim left `sending` by a crash) is settled by SendGrid's events
(`nurture.outbound.evidence`, through the webhook). If none arrived within `send_evidence_window` of the claim,
the provider never took it: it is queued once more; after `MAX_UNKNOWN_SENDS` such sends it stays unconfirmed.

Without a provider (the embedded default) the confirmation is written straight to the dev outbox as `sent`.
Several API processes may run mailers: a batch is claimed in one statement (`FOR UPDATE SKIP LOCKED` on
PostgreSQL; SQLite has a single writer), so each message has one sender.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from activities.email import EmailSender, OutgoingEmail, SendNotAccepted, SendOutcomeUnknown, SendRefused
from nurture.clock import utcnow
from nurture.config import Settings
from nurture.db import ContactStatus, TouchStatus
from nurture.db.tables import CONTACT, OUTBOX_EMAIL, TOUCH
from nurture.logging import get_logger
from nurture.waiting import woken

log = get_logger(__name__)

TRANSACTIONAL = "transactional"
MAX_UNKNOWN_SENDS = 2  # provider calls of unknown outcome before a message stays unconfirmed for good


@dataclass(frozen=True)
class MailPass:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    unconfirmed: int = 0


class TransactionalMailer:
    """Sends queued transactional mail. `nudge()` after committing some; `run()` forever (cancel to stop)."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        sender: EmailSender,
        *,
        batch_size: int = 100,
        idle_seconds: float = 2.0,
        retry_after: timedelta = timedelta(seconds=30),
    ) -> None:
        self._settings = settings
        self._engine = engine
        self._sender = sender
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        self.retry_after = retry_after
        self.window = max(settings.send_evidence_window, timedelta(seconds=2 * settings.sendgrid_timeout_seconds))
        self._wake = asyncio.Event()

    def nudge(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        log.info("mailer.started", sender=getattr(self._sender, "name", type(self._sender).__name__))
        while True:
            self._wake.clear()
            try:
                await asyncio.to_thread(self.send_queued)
            except SQLAlchemyError as err:
                log.warning("mailer.database_unavailable", error=str(err)[:300])
            except Exception:  # a bug must not stop confirmations for good: log it and try again next pass
                log.exception("mailer.pass_failed")
            await woken(self._wake, self.idle_seconds)

    def send_queued(self, now: datetime | None = None) -> MailPass:
        """One pass: settle claims the provider never reported on, then claim and send what is due."""
        now = now or utcnow()
        unconfirmed = self._settle_stale_claims(now)
        sent = retrying = failed = 0
        for touch_id in self._claim_due(now):
            try:
                email, suppressed = self._message(touch_id)
            except Exception as err:  # one broken message must not hold up the ones behind it
                log.exception("mailer.message_unreadable", touch_id=touch_id)
                retrying += 1
                self._release(touch_id, now + self.retry_after, f"{type(err).__name__}: {err}"[:500])
                continue
            if suppressed:
                self._settle(touch_id, TouchStatus.SUPPRESSED, error="contact opted out before it was sent")
                continue
            status = self._send(email, now)
            sent += status == TouchStatus.SENT
            retrying += status == TouchStatus.QUEUED
            failed += status == TouchStatus.FAILED
            unconfirmed += status == TouchStatus.UNCONFIRMED
        return MailPass(sent, retrying, failed, unconfirmed)

    # ---- steps --------------------------------------------------------------------------------------------

    def _claim_due(self, now: datetime) -> list[int]:
        """Queued and due -> sending, in one statement. `claimed_at` (and `sent_at`, until settled) hold the time."""
        t = TOUCH.c
        due = (
            select(t.id)
            .where(
                t.channel == TRANSACTIONAL,
                t.status == TouchStatus.QUEUED.value,
                or_(t.next_attempt_at.is_(None), t.next_attempt_at <= now),
            )
            .order_by(t.id)
            .limit(self.batch_size)
        )
        if self._engine.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        claim = (
            update(TOUCH)
            .where(t.id.in_(due.scalar_subquery()), t.status == TouchStatus.QUEUED.value)
            .values(status=TouchStatus.SENDING.value, sent_at=now, claimed_at=now, attempts=t.attempts + 1)
            .returning(t.id)
        )
        with self._engine.begin() as conn:
            return sorted(int(i) for i in conn.execute(claim).scalars())

    def _release(self, touch_id: int, not_before: datetime, error: str) -> None:
        """Our claim back to queued (nothing reached the provider), due again at `not_before`."""
        t = TOUCH.c
        with self._engine.begin() as conn:
            conn.execute(
                update(TOUCH)
                .where(t.id == touch_id, t.status == TouchStatus.SENDING.value)
                .values(
                    status=TouchStatus.QUEUED.value,
                    error=error,
                    sent_at=None,
                    next_attempt_at=not_before,
                    attempts=case((t.attempts > 0, t.attempts - 1), else_=0),  # this call never reached it
                )
            )

    def _send(self, email: OutgoingEmail, now: datetime) -> TouchStatus:
        touch_id = email.touch_id
        try:
            message_id = self._sender.send(email)
        except SendNotAccepted as err:
            wait = err.retry_after or self.retry_after
            log.warning("mailer.retry_later", touch_id=touch_id, detail=err.detail, seconds=wait.total_seconds())
            self._release(touch_id, now + wait, err.detail)
            return TouchStatus.QUEUED
        except SendRefused as err:
            log.error("mailer.refused", touch_id=touch_id, detail=err.detail)
            return self._settle(touch_id, TouchStatus.FAILED, error=err.detail)
        except SendOutcomeUnknown as err:
            log.warning("mailer.unconfirmed", touch_id=touch_id, detail=err.detail)
            return self._settle(touch_id, TouchStatus.UNCONFIRMED, error=err.detail)
        except Exception as err:  # raised before any answer from the provider: certainly not sent, queue it again
            log.exception("mailer.send_crashed", touch_id=touch_id)
            self._release(touch_id, now + self.retry_after, f"{type(err).__name__}: {err}"[:500])
            return TouchStatus.QUEUED
        log.info("mailer.sent", touch_id=touch_id, message_id=message_id)
        return self._settle(touch_id, TouchStatus.SENT, message_id=message_id, sent_at=utcnow())

    def _message(self, touch_id: int) -> tuple[OutgoingEmail, bool]:
        """The stored message, and whether its contact has opted out since it was queued."""
        m, c = OUTBOX_EMAIL.c, CONTACT.c
        with self._engine.connect() as conn:
            row = conn.execute(select(OUTBOX_EMAIL).where(m.touch_id == touch_id)).mappings().one()
            status = conn.execute(
                select(c.status).join(TOUCH, TOUCH.c.contact_id == c.id).where(TOUCH.c.id == touch_id)
            ).scalar()
        email = OutgoingEmail(
            touch_id=touch_id,
            to_email=row["to_email"],
            to_name="",
            from_email=self._settings.from_email,
            from_name=self._settings.from_name,
            subject=row["subject"],
            html=row["html"],
            text=row["text"],
            created_at=row["created_at"],
            headers=dict(row["headers"] or {}),
            custom_args=dict(row["custom_args"] or {}),
        )
        return email, status == ContactStatus.SUPPRESSED.value

    def _settle(
        self,
        touch_id: int,
        status: TouchStatus,
        *,
        error: str | None = None,
        message_id: str | None = None,
        sent_at: datetime | object | None = ...,
    ) -> TouchStatus:
        values: dict[str, object] = {"status": status.value, "error": error}
        if message_id is not None:
            values["message_id"] = message_id
        if sent_at is not ...:
            values["sent_at"] = sent_at
        with self._engine.begin() as conn:
            conn.execute(update(TOUCH).where(TOUCH.c.id == touch_id).values(**values))
        return status

    def _settle_stale_claims(self, now: datetime) -> int:
        """Sends of unknown outcome with no provider event within the window: queue once more, or give up."""
        t = TOUCH.c
        unsettled = (TouchStatus.SENDING.value, TouchStatus.UNCONFIRMED.value)
        claimed_long_ago = func.coalesce(t.claimed_at, t.sent_at) < now - self.window
        with self._engine.begin() as conn:
            again = conn.execute(
                update(TOUCH)
                .where(t.channel == TRANSACTIONAL, t.status.in_(unsettled), claimed_long_ago)
                .where(t.attempts < MAX_UNKNOWN_SENDS)
                .values(
                    status=TouchStatus.QUEUED.value,
                    sent_at=None,
                    next_attempt_at=None,
                    error="no provider event within the window: sending once more",
                )
            )
            given_up = conn.execute(
                update(TOUCH)
                .where(t.channel == TRANSACTIONAL, t.status == TouchStatus.SENDING.value, claimed_long_ago)
                .where(t.attempts >= MAX_UNKNOWN_SENDS)
                .values(status=TouchStatus.UNCONFIRMED.value, error="no provider event after every send; not resent")
            )
        if again.rowcount:
            log.warning("mailer.resending_without_evidence", count=again.rowcount)
        return int(given_up.rowcount or 0)
