"""The dev sender: no provider, the rendered email goes into the OutboxEmail table (`nurture` shows it)."""

from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import select

from activities.email.message import OutgoingEmail, SendNotAccepted
from nurture.db import OutboxEmail
from nurture.db.engine import session_scope
from nurture.db.tables import OUTBOX_EMAIL
from nurture.logging import get_logger

log = get_logger(__name__)
_STORE = insert(OUTBOX_EMAIL).returning(OUTBOX_EMAIL.c.id)  # built once: it runs on every dev drop


class OutboxSender:
    name = "outbox"

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def send(self, email: OutgoingEmail) -> str | None:
        row = {
            "touch_id": email.touch_id,
            "to_email": email.to_email,
            "subject": email.subject,
            "html": email.html,
            "text": email.text,
            "headers": dict(email.headers),
            "custom_args": dict(email.custom_args),
            "created_at": email.created_at,
        }
        try:
            with self._engine.begin() as conn:  # one INSERT on every dev drop: core, no unit of work
                outbox_id = conn.execute(_STORE, row).scalar_one()
        except IntegrityError:
            with session_scope(self._engine) as session:  # stored by an earlier attempt: same message
                existing = session.exec(select(OutboxEmail).where(OutboxEmail.touch_id == email.touch_id)).first()
            if existing is None:
                raise
            outbox_id = existing.id
        except SQLAlchemyError as err:  # rolled back: nothing stored, a retry may store it
            raise SendNotAccepted(f"outbox unavailable: {type(err).__name__}") from err
        log.info("outbox.stored", touch_id=email.touch_id, outbox_id=outbox_id)
        return f"outbox-{outbox_id}"
