"""Sending one drop: suppression, the minimum gap across journeys, and at-most-once delivery.

The touch row (unique key `{workflow_id}:{item_id}`) is the idempotency record. It is claimed as `sending`
(with the wall-clock `claimed_at`) and committed before the provider is called, then settled:

    sending -> sent          provider accepted (message id stored)
    sending -> unconfirmed   no answer (read timeout): it may have gone out
    sending -> failed        provider refused it for good (4xx): recorded on the touch and the contact
    sending -> retrying      provider certainly did not take it (429, 5xx, unreachable): the claim is
                             released and the activity raises, so Temporal's retry may send it

Effectively once: a send of unknown outcome (`unconfirmed`, or a claim left `sending` by a crash) is settled by
evidence. SendGrid reports each message it took within seconds, and the webhook marks the touch `sent`
(`nurture.outbound.evidence`). Until `send_evidence_window` has passed since the claim, the activity raises a
retryable `AwaitingEvidence` and Temporal retries it every `EVIDENCE_POLL` (the journey goes on seconds after the
events arrive, not when the window ends); a retry that finds the touch `sent` returns that. When the window has
passed with no event, the provider never took the message: it is claimed again under the same rules (suppression,
gap, contact lock) and sent once more. After `MAX_UNKNOWN_SENDS` sends without evidence the touch stays
`unconfirmed` and is never sent again. The window is at least the provider timeout twice over, so an earlier
attempt still in its call has given up before a resend.

Claims are serialised per contact (a row lock on the contact) so two journeys cannot both pass the gate
(`activities.caps`: caps across journeys, the minimum gap, quiet time, priority among deferred drops).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session
from temporalio.exceptions import ApplicationError

from activities.caps import gate
from activities.email import (
    EmailSender,
    OutgoingEmail,
    SendNotAccepted,
    SendOutcomeUnknown,
    SendRefused,
)
from activities.email.render import Drop, DropRenderer
from activities.touches import UNSETTLED, contact_touches, replay, settle_touch, upsert_touch
from nurture.clock import utcnow
from nurture.config import Settings
from nurture.db import Contact, ContactStatus, Touch, TouchStatus
from nurture.db.broadcast_content import written_item
from nurture.db.engine import session_scope
from nurture.db.tables import CONTACT
from nurture.deferrals import cancel_waiting
from nurture.logging import get_logger
from workflows.dsl import ContentItem, find_item
from workflows.payloads import SendDropInput, SendDropResult

log = get_logger(__name__)

# What the caller records with the drop's result, in the transaction that decides it (`DropSender.send`).
Record = Callable[[Connection, SendDropResult], None]
_LOCK_CONTACT = (
    update(CONTACT)
    .where(CONTACT.c.id == bindparam("b_contact"))
    .values(updated_at=CONTACT.c.updated_at)
    .returning(*CONTACT.c)
)
MAX_UNKNOWN_SENDS = 2  # provider calls of unknown outcome before a touch stays unconfirmed for good
EVIDENCE_POLL = timedelta(seconds=3)  # how often a drop of unknown outcome looks for the provider's events


@dataclass(frozen=True)
class AwaitEvidence:
    """The touch's outcome is unknown and the provider may still report it: ask again after `wait`."""

    touch_id: int
    wait: timedelta


class DropSender:
    def __init__(self, settings: Settings, engine: Engine, sender: EmailSender) -> None:
        self._settings = settings
        self._engine = engine
        self._sender = sender
        self._renderer = DropRenderer(settings)
        # at least two provider timeouts (connect + read): an earlier attempt still in its call has given up by then
        self._window = max(settings.send_evidence_window, timedelta(seconds=2 * settings.sendgrid_timeout_seconds))

    def _written(self, item_id: str) -> ContentItem | None:
        """A broadcast's written content (`broadcast:<id>`), read from the database when it is sent."""
        with session_scope(self._engine) as session:
            return written_item(session, item_id)

    def send(self, inp: SendDropInput, record: Record | None = None) -> SendDropResult:
        """Claim, send, settle (see the module docstring). `record`, if given, is called with the result in the
        transaction that decides it (the claim's, or the settle's after a send) and commits with it."""
        item = find_item(inp.item_id) or self._written(inp.item_id)
        if item is None:
            log.error("drop.unknown_item", contact_id=inp.contact_id, item_id=inp.item_id, journey=inp.journey)
            return SendDropResult(status="failed", detail=f"unknown item {inp.item_id}")
        claimed = self._claim(inp, record)
        if isinstance(claimed, SendDropResult):
            return claimed
        if isinstance(claimed, AwaitEvidence):
            log.info("drop.awaiting_evidence", touch_id=claimed.touch_id, seconds=claimed.wait.total_seconds())
            raise ApplicationError(
                f"touch {claimed.touch_id}: outcome unknown, waiting for the provider's events",
                type="AwaitingEvidence",
                next_retry_delay=claimed.wait,
            )
        touch, contact = claimed
        assert touch.id is not None
        try:
            as_sent = item.for_variants(inp.variants)  # the subject of the contact's experiment arm, if any
            rendered = self._renderer.render(Drop(contact, as_sent, touch.id, inp.journey, inp.broadcast_id, inp.now))
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
            refused = SendDropResult(status="failed", touch_id=touch.id, detail=err.detail)
            self._settle(touch.id, TouchStatus.FAILED, inp, error=err.detail, record=record, result=refused)
            log.warning("drop.refused", status=err.status, detail=err.detail, **fields)
            return refused
        except SendNotAccepted as err:
            self._settle(touch.id, TouchStatus.RETRYING, inp, error=err.detail)
            log.warning("drop.not_accepted", status=err.status, detail=err.detail, **fields)
            raise ApplicationError(err.detail, type="SendNotAccepted", next_retry_delay=err.retry_after) from err
        except SendOutcomeUnknown as err:
            final = touch.attempts >= MAX_UNKNOWN_SENDS
            unconfirmed = SendDropResult(status="unconfirmed", touch_id=touch.id, detail=err.detail)
            self._settle(
                touch.id, TouchStatus.UNCONFIRMED, inp, error=err.detail, record=record if final else None,
                result=unconfirmed,
            )  # fmt: skip
            log.warning("drop.unconfirmed", detail=err.detail, **fields)
            if final:
                return unconfirmed
            raise ApplicationError(
                f"touch {touch.id}: {err.detail}; waiting for the provider's events",
                type="AwaitingEvidence",
                next_retry_delay=min(self._window, EVIDENCE_POLL),
            ) from err
        # Any other exception leaves the claim `sending`: the retry waits for evidence as for a timeout.
        sent = SendDropResult(status="sent", touch_id=touch.id, message_id=message_id)
        self._settle(touch.id, TouchStatus.SENT, inp, message_id=message_id, record=record, result=sent)
        log.info("drop.sent", message_id=message_id, sender=self._sender.name, **fields)
        return sent

    # ---- claim -----------------------------------------------------------------------------------------

    def _claim(
        self, inp: SendDropInput, record: Record | None
    ) -> tuple[Touch, Contact] | SendDropResult | AwaitEvidence:
        with session_scope(self._engine) as s:
            claimed = self._claim_in(s, inp)
            if record is not None and isinstance(claimed, SendDropResult):
                s.flush()
                record(s.connection(), claimed)
            return claimed

    def _claim_in(self, s: Session, inp: SendDropInput) -> tuple[Touch, Contact] | SendDropResult | AwaitEvidence:
        key = f"{inp.workflow_id}:{inp.item_id}"
        # Lock the contact row first: concurrent sends to one contact (other journeys) queue up here. The lock's
        # UPDATE returns the row, so locking and reading the contact are one statement.
        conn = s.connection()
        row = conn.execute(_LOCK_CONTACT, {"b_contact": inp.contact_id}).first()
        contact = None if row is None else Contact(**row._mapping)
        touches = contact_touches(conn, inp.contact_id, inp.item_id, key, inp.now)
        # Most claims are a first attempt: an earlier one is loaded as an object only if there is one.
        found = touches.own()
        touch = None if found is None else s.get(Touch, found)
        if touch is not None and touch.status in UNSETTLED:
            waiting = self._unsettled(touch)
            if waiting is not None:
                return waiting
        elif touch is not None and touch.status != TouchStatus.RETRYING:
            return replay(touch)
        # Consent first, before any rule that could only hold the drop back (gap, caps, quiet time,
        # priority, expiry): a contact who may not be mailed is told `suppressed` with the reason, never
        # `deferred`, and nothing keeps waiting for it.
        why = refusal(contact)
        if why is not None:
            if contact is not None:
                touch = upsert_touch(s, touch, inp, self._sender.name, TouchStatus.SUPPRESSED, error=why)
                cancel_waiting(s.connection(), inp.contact_id, inp.now, why)
            log.info("drop.suppressed", contact_id=inp.contact_id, item_id=inp.item_id, journey=inp.journey)
            return SendDropResult(status="suppressed", touch_id=touch.id if touch else None, detail=why)
        assert contact is not None  # refusal() names an erased contact
        if inp.held_out:  # the journey's holdout: the touch says what would have gone out; nothing is sent
            touch = upsert_touch(s, touch, inp, self._sender.name, TouchStatus.HELD_OUT)
            log.info("drop.held_out", contact_id=inp.contact_id, item_id=inp.item_id, journey=inp.journey)
            return SendDropResult(status="held_out", touch_id=touch.id, detail="in the journey's holdout")
        earlier = touches.earlier()
        if earlier is not None:  # never repeat content to a contact, whichever journey sent it first
            why = f"{inp.item_id} already sent to this contact by {earlier.journey}"
            log.info("drop.duplicate", contact_id=inp.contact_id, item_id=inp.item_id, journey=inp.journey)
            return SendDropResult(status="duplicate", touch_id=earlier.id, detail=why)
        # caps, the minimum gap, quiet time and priority: deferred (recorded) or expired, never lost
        allowed = gate(s, inp, contact, self._settings, touches.sends())
        if isinstance(allowed, SendDropResult):
            log.info("drop.deferred", contact_id=inp.contact_id, item_id=inp.item_id, status=allowed.status)
            return allowed
        touch = upsert_touch(s, touch, inp, self._sender.name, TouchStatus.SENDING, claimed=True)
        return touch, contact

    def _unsettled(self, touch: Touch) -> AwaitEvidence | SendDropResult | None:
        """A touch of unknown outcome: wait for evidence, stay unconfirmed for good, or (None) send once more."""
        assert touch.id is not None
        claimed = touch.claimed_at or touch.created_at
        left = claimed + self._window - utcnow()
        if left > timedelta(0):
            return AwaitEvidence(touch.id, min(left, EVIDENCE_POLL))
        if touch.attempts >= MAX_UNKNOWN_SENDS:
            touch.status = TouchStatus.UNCONFIRMED
            touch.sent_at = touch.sent_at or touch.created_at
            touch.error = f"no provider event after {touch.attempts} sends; not sent again"
            log.warning("drop.unconfirmed", touch_id=touch.id, contact_id=touch.contact_id, item_id=touch.item_id)
            return replay(touch)
        log.warning(
            "drop.resending_without_evidence", touch_id=touch.id, contact_id=touch.contact_id, item_id=touch.item_id
        )
        return None

    # ---- settle ----------------------------------------------------------------------------------------

    def _settle(
        self,
        touch_id: int,
        status: TouchStatus,
        inp: SendDropInput,
        *,
        error: str | None = None,
        message_id: str | None = None,
        record: Record | None = None,
        result: SendDropResult | None = None,
    ) -> None:
        """The claim's outcome on the touch (and the contact), with `record(result)` in the same transaction."""
        with self._engine.begin() as conn:
            settle_touch(conn, touch_id, status, inp, error=error, message_id=message_id)
            if record is not None and result is not None:
                record(conn, result)


def refusal(contact: Contact | None) -> str | None:
    """Why this contact may not get a drop at all (erased, suppressed, opt-in not confirmed), or None."""
    if contact is None:
        return "contact erased"
    if contact.status == ContactStatus.SUPPRESSED:
        return f"contact suppressed ({contact.suppressed_reason})"
    if contact.status == ContactStatus.PENDING_CONFIRMATION:
        return "contact suppressed (opt-in not confirmed)"
    return None
