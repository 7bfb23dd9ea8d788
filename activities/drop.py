"""Sending one drop: suppression, the minimum gap across journeys, and at-most-once delivery.

The touch row (unique key `{workflow_id}:{item_id}`) is the idempotency record. It is claimed as `sending`
and committed before the provider is called, then settled:

    sending -> sent          provider accepted (message id stored)
    sending -> unconfirmed   no answer (read timeout), or a later attempt found the claim still `sending`
                             (the earlier attempt crashed or timed out mid-call): it may have gone out, so it
                             is never sent again
    sending -> failed        provider refused it for good (4xx): recorded on the touch and the contact
    sending -> retrying      provider certainly did not take it (429, 5xx, unreachable): the claim is
                             released and the activity raises, so Temporal's retry may send it

Claims are serialised per contact (a row lock on the contact) so two journeys cannot both pass the gap check.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from temporalio.exceptions import ApplicationError

from activities.email import (
    EmailSender,
    OutgoingEmail,
    SendNotAccepted,
    SendOutcomeUnknown,
    SendRefused,
)
from activities.email.render import Drop, DropRenderer
from nurture.config import Settings
from nurture.db import Contact, ContactStatus, Touch, TouchStatus
from nurture.db.engine import session_scope
from nurture.logging import get_logger
from workflows.dsl import find_item
from workflows.payloads import SendDropInput, SendDropResult

log = get_logger(__name__)

DROP_CHANNEL = "email"
COUNTS_FOR_GAP = (TouchStatus.SENT, TouchStatus.UNCONFIRMED, TouchStatus.SENDING)


class DropSender:
    def __init__(self, settings: Settings, engine: Engine, sender: EmailSender) -> None:
        self._settings = settings
        self._engine = engine
        self._sender = sender
        self._renderer = DropRenderer(settings)

    def send(self, inp: SendDropInput) -> SendDropResult:
        item = find_item(inp.item_id)
        if item is None:
            log.error("drop.unknown_item", contact_id=inp.contact_id, item_id=inp.item_id, journey=inp.journey)
            return SendDropResult(status="failed", detail=f"unknown item {inp.item_id}")
        claimed = self._claim(inp)
        if isinstance(claimed, SendDropResult):
            return claimed
        touch, contact = claimed
        assert touch.id is not None
        try:
            rendered = self._renderer.render(Drop(contact, item, touch.id, inp.journey, inp.broadcast_id, inp.now))
        except Exception:
            self._settle(touch.id, TouchStatus.RETRYING, inp, error="rendering failed")
            raise
        email = OutgoingEmail(
            touch_id=touch.id,
            to_email=contact.email,
            to_name=f"{contact.first_name} {contact.last_name}".strip(),
            from_email=self._settings.from_email,
            from_name=self._settings.from_name,
            subject=rendered.subject,
            html=rendered.html,
            text=rendered.text,
            created_at=inp.now,
            headers=rendered.headers,
            custom_args=rendered.custom_args,
        )
        fields = {"contact_id": inp.contact_id, "journey": inp.journey, "item_id": inp.item_id, "touch_id": touch.id}
        try:
            message_id = self._sender.send(email)
        except SendRefused as err:
            self._settle(touch.id, TouchStatus.FAILED, inp, error=err.detail)
            log.warning("drop.refused", status=err.status, detail=err.detail, **fields)
            return SendDropResult(status="failed", touch_id=touch.id, detail=err.detail)
        except SendNotAccepted as err:
            self._settle(touch.id, TouchStatus.RETRYING, inp, error=err.detail)
            log.warning("drop.not_accepted", status=err.status, detail=err.detail, **fields)
            raise ApplicationError(err.detail, type="SendNotAccepted", next_retry_delay=err.retry_after) from err
        except SendOutcomeUnknown as err:
            self._settle(touch.id, TouchStatus.UNCONFIRMED, inp, error=err.detail)
            log.warning("drop.unconfirmed", detail=err.detail, **fields)
            return SendDropResult(status="unconfirmed", touch_id=touch.id, detail=err.detail)
        # Any other exception leaves the claim `sending`: the retry will mark it unconfirmed, never resend.
        self._settle(touch.id, TouchStatus.SENT, inp, message_id=message_id)
        log.info("drop.sent", message_id=message_id, sender=self._sender.name, **fields)
        return SendDropResult(status="sent", touch_id=touch.id, message_id=message_id)

    # ---- claim -----------------------------------------------------------------------------------------

    def _claim(self, inp: SendDropInput) -> tuple[Touch, Contact] | SendDropResult:
        key = f"{inp.workflow_id}:{inp.item_id}"
        with session_scope(self._engine) as s:
            # Lock the contact row first: concurrent sends to one contact (other journeys) queue up here.
            s.execute(update(Contact).where(col(Contact.id) == inp.contact_id).values(updated_at=Contact.updated_at))
            contact = s.get(Contact, inp.contact_id)
            touch = s.exec(select(Touch).where(Touch.idempotency_key == key)).first()
            if touch is not None and touch.status != TouchStatus.RETRYING:
                return _replay(touch)
            if contact is None or contact.status == ContactStatus.SUPPRESSED:
                why = "contact erased" if contact is None else f"contact suppressed ({contact.suppressed_reason})"
                if contact is not None:
                    _upsert_touch(s, touch, inp, self._sender.name, TouchStatus.SUPPRESSED, error=why)
                log.info("drop.suppressed", contact_id=inp.contact_id, item_id=inp.item_id, journey=inp.journey)
                return SendDropResult(status="suppressed", touch_id=touch.id if touch else None, detail=why)
            if inp.held_out:  # the journey's holdout: the touch says what would have gone out; nothing is sent
                touch = _upsert_touch(s, touch, inp, self._sender.name, TouchStatus.HELD_OUT)
                log.info("drop.held_out", contact_id=inp.contact_id, item_id=inp.item_id, journey=inp.journey)
                return SendDropResult(status="held_out", touch_id=touch.id, detail="in the journey's holdout")
            earlier = s.exec(
                select(Touch).where(
                    Touch.contact_id == inp.contact_id,
                    Touch.item_id == inp.item_id,
                    Touch.idempotency_key != key,
                    col(Touch.status).in_(COUNTS_FOR_GAP),
                )
            ).first()
            if earlier is not None:  # never repeat content to a contact, whichever journey sent it first
                why = f"{inp.item_id} already sent to this contact by {earlier.journey}"
                log.info("drop.duplicate", contact_id=inp.contact_id, item_id=inp.item_id, journey=inp.journey)
                return SendDropResult(status="duplicate", touch_id=earlier.id, detail=why)
            gap = timedelta(seconds=inp.min_gap_seconds)
            last = _last_touch_at(s, inp.contact_id, key, inp.now - gap)
            if last is not None:
                until = last + gap
                log.info("drop.deferred", contact_id=inp.contact_id, item_id=inp.item_id, until=until.isoformat())
                return SendDropResult(
                    status="deferred",
                    deferred_until=until,
                    detail=f"last drop at {last.isoformat()}; next allowed at {until.isoformat()}",
                )
            touch = _upsert_touch(s, touch, inp, self._sender.name, TouchStatus.SENDING)
            return touch, contact

    # ---- settle ----------------------------------------------------------------------------------------

    def _settle(
        self,
        touch_id: int,
        status: TouchStatus,
        inp: SendDropInput,
        *,
        error: str | None = None,
        message_id: str | None = None,
    ) -> None:
        with session_scope(self._engine) as s:
            touch = s.get(Touch, touch_id)
            # A slow attempt may finish after a retry marked its claim unconfirmed: what it learnt is better.
            if touch is None or touch.status not in (TouchStatus.SENDING, TouchStatus.UNCONFIRMED):
                return
            touch.status = status
            touch.error = error
            touch.message_id = message_id
            touch.sent_at = inp.now if status in (TouchStatus.SENT, TouchStatus.UNCONFIRMED) else None
            contact = s.get(Contact, inp.contact_id)
            if contact is not None and status in (TouchStatus.SENT, TouchStatus.FAILED):
                contact.last_send_error = error if status == TouchStatus.FAILED else None
                contact.updated_at = inp.now


def _replay(touch: Touch) -> SendDropResult:
    """The result of an earlier attempt; a claim still `sending` becomes `unconfirmed` (never resent)."""
    if touch.status == TouchStatus.SENDING:
        touch.status = TouchStatus.UNCONFIRMED
        touch.sent_at = touch.created_at
        touch.error = "an earlier attempt stopped mid-send; not resent (at most once)"
        log.warning("drop.unconfirmed", touch_id=touch.id, contact_id=touch.contact_id, item_id=touch.item_id)
    detail = touch.error or "already recorded"
    return SendDropResult(status=str(touch.status), touch_id=touch.id, message_id=touch.message_id, detail=detail)


def _upsert_touch(
    s: Session,
    touch: Touch | None,
    inp: SendDropInput,
    sender: str,
    status: TouchStatus,
    *,
    error: str | None = None,
) -> Touch:
    if touch is None:
        touch = Touch(
            idempotency_key=f"{inp.workflow_id}:{inp.item_id}",
            contact_id=inp.contact_id,
            journey=inp.journey,
            workflow_id=inp.workflow_id,
            step=inp.step[:120],
            item_id=inp.item_id,
            broadcast_id=inp.broadcast_id,
            sender=sender,
            status=status,
            reason=inp.reason[:500],
            created_at=inp.now,
            variants=dict(inp.variants),
        )
    touch.status, touch.error, touch.sender, touch.created_at = status, error, sender, inp.now
    s.add(touch)
    s.flush()
    return touch


def _last_touch_at(s: Session, contact_id: int, key: str, since: datetime) -> datetime | None:
    """When the contact was last reached (or is being reached) by another drop, if after `since`.

    Only drops (channel "email") count: a transactional email such as the opt-in confirmation does not.
    """
    rows = s.exec(
        select(Touch).where(
            Touch.contact_id == contact_id,
            Touch.channel == DROP_CHANNEL,
            Touch.idempotency_key != key,
            col(Touch.status).in_(COUNTS_FOR_GAP),
            or_(col(Touch.sent_at) > since, (col(Touch.sent_at).is_(None)) & (col(Touch.created_at) > since)),
        )
    ).all()
    return max((t.sent_at or t.created_at for t in rows), default=None)
