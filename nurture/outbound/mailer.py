"""Transactional mail (the double opt-in confirmation) through the configured email provider.

`POST /contacts` writes the confirmation in the contact's own transaction: a `Touch` on channel "transactional"
with status `queued` and its rendered `OutboxEmail`. Nothing is sent inside a request, and nothing is lost if the
provider is down: the mailer, a background task of the API process next to the outbox relay, sends queued mail
with the same at-most-once rule as drops (see `activities.drop`):

    queued -> sending       claimed and committed before the provider is called
    sending -> sent         provider accepted (message id stored)
    sending -> queued       provider certainly did not take it (429, 5xx, unreachable): retried after a backoff
    sending -> failed       provider refused it for good (4xx)
    sending -> unconfirmed  no answer, or a claim left `sending` by a crash: it may have gone out, never resent

Without a provider (the embedded default) the confirmation is written straight to the dev outbox as `sent`.
Several API processes may run mailers: a claim is a conditional update, so each message has one sender.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from activities.email import EmailSender, OutgoingEmail, SendNotAccepted, SendOutcomeUnknown, SendRefused
from nurture.clock import utcnow
from nurture.config import Settings
from nurture.db import Contact, ContactStatus, OutboxEmail, Touch, TouchStatus
from nurture.inbound.outbox import table
from nurture.logging import get_logger

log = get_logger(__name__)

TOUCH = table(Touch)
OUTBOX_EMAIL = table(OutboxEmail)
CONTACT = table(Contact)
TRANSACTIONAL = "transactional"
STALE_CLAIM = timedelta(minutes=5)  # a claim older than this was left by a crash mid-call


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
        self._not_before: dict[int, datetime] = {}  # touch id -> earliest retry (provider said not now)
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
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.idle_seconds)

    def send_queued(self, now: datetime | None = None) -> MailPass:
        """One pass: settle stale claims, then send every queued message that is due."""
        now = now or utcnow()
        unconfirmed = self._settle_stale_claims(now)
        sent = retrying = failed = 0
        for touch_id in self._queued():
            if self._not_before.get(touch_id, now) > now:
                continue
            try:
                email, suppressed = self._message(touch_id)  # read before the claim: a claim is a promise to call
            except Exception as err:  # one broken message must not hold up the ones behind it
                self._not_before[touch_id] = now + self.retry_after
                log.exception("mailer.message_unreadable", touch_id=touch_id)
                retrying += 1
                self._note_error(touch_id, f"{type(err).__name__}: {err}"[:500])
                continue
            if suppressed:
                self._suppress(touch_id)
                continue
            if not self._claim(touch_id):
                continue
            status = self._send(email, now)
            sent += status == TouchStatus.SENT
            retrying += status == TouchStatus.QUEUED
            failed += status == TouchStatus.FAILED
            unconfirmed += status == TouchStatus.UNCONFIRMED
        return MailPass(sent, retrying, failed, unconfirmed)

    # ---- steps --------------------------------------------------------------------------------------------

    def _queued(self) -> list[int]:
        t = TOUCH.c
        with self._engine.connect() as conn:
            query = (
                select(t.id)
                .where(t.channel == TRANSACTIONAL, t.status == TouchStatus.QUEUED.value)
                .order_by(t.id)
                .limit(self.batch_size)
            )
            return [int(i) for i in conn.execute(query).scalars()]

    def _claim(self, touch_id: int) -> bool:
        """Queued -> sending, committed before the provider call. `sent_at` holds the claim time until settled."""
        t = TOUCH.c
        with self._engine.begin() as conn:
            claimed = conn.execute(
                update(TOUCH)
                .where(t.id == touch_id, t.status == TouchStatus.QUEUED.value)
                .values(status=TouchStatus.SENDING.value, sent_at=utcnow())
            )
            return claimed.rowcount == 1

    def _send(self, email: OutgoingEmail, now: datetime) -> TouchStatus:
        touch_id = email.touch_id
        try:
            message_id = self._sender.send(email)
        except SendNotAccepted as err:
            wait = err.retry_after or self.retry_after
            self._not_before[touch_id] = now + wait
            log.warning("mailer.retry_later", touch_id=touch_id, detail=err.detail, seconds=wait.total_seconds())
            return self._settle(touch_id, TouchStatus.QUEUED, error=err.detail, sent_at=None)
        except SendRefused as err:
            log.error("mailer.refused", touch_id=touch_id, detail=err.detail)
            return self._settle(touch_id, TouchStatus.FAILED, error=err.detail)
        except SendOutcomeUnknown as err:
            log.warning("mailer.unconfirmed", touch_id=touch_id, detail=err.detail)
            return self._settle(touch_id, TouchStatus.UNCONFIRMED, error=err.detail)
        except Exception as err:  # raised before any answer from the provider: certainly not sent, queue it again
            self._not_before[touch_id] = now + self.retry_after
            log.exception("mailer.send_crashed", touch_id=touch_id)
            return self._settle(touch_id, TouchStatus.QUEUED, error=f"{type(err).__name__}: {err}"[:500], sent_at=None)
        self._not_before.pop(touch_id, None)
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

    def _suppress(self, touch_id: int) -> None:
        with self._engine.begin() as conn:  # only while still queued: another mailer may have claimed it
            conn.execute(
                update(TOUCH)
                .where(TOUCH.c.id == touch_id, TOUCH.c.status == TouchStatus.QUEUED.value)
                .values(status=TouchStatus.SUPPRESSED.value, error="contact opted out before it was sent")
            )

    def _note_error(self, touch_id: int, error: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(update(TOUCH).where(TOUCH.c.id == touch_id).values(error=error))

    def _settle_stale_claims(self, now: datetime) -> int:
        """Claims still `sending` long after they were made were left by a crash mid-call: unconfirmed."""
        t = TOUCH.c
        with self._engine.begin() as conn:
            stale = conn.execute(
                update(TOUCH)
                .where(
                    t.channel == TRANSACTIONAL,
                    t.status == TouchStatus.SENDING.value,
                    t.sent_at < now - STALE_CLAIM,  # the claim time
                )
                .values(status=TouchStatus.UNCONFIRMED.value, error="left sending by an earlier mailer: not resent")
            )
            return int(stale.rowcount or 0)
