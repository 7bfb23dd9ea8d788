"""The signup inbox's one writer: a public opt-in held at the door, taken by the worker that stores it.

`hold` is the door's only database work: one INSERT of what was typed, the same statement for a new and a known
address (no read, no unique key to collide with), so its time says nothing about the address. `take` claims the
oldest held opt-in by deleting it, inside the transaction that then stores it: if storing fails the delete rolls
back with it and the opt-in is held again; if it commits, nobody can take it twice. On PostgreSQL the claim
skips rows another worker holds (`FOR UPDATE SKIP LOCKED`), so any number of API processes work one inbox;
SQLite has one writer at a time. A try that fails is counted by `failed` in a transaction of its own; a row that
failed too often is set aside (deleted, logged by the caller without the address). Rows hold plain fields
(`nurture.api.signup.Signup` turns them into an opt-in and back).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection

from nurture.db.tables import SIGNUP_INBOX


@dataclass(frozen=True)
class Held:
    """An opt-in as held: the fields the door accepted (JSON-ready), when, and the API's time scale."""

    email: str
    fields: dict[str, Any]
    time_scale: float
    received_at: datetime
    id: int | None = None  # set when taken (for `failed`)


def hold(conn: Connection, signup: Held) -> None:
    conn.execute(
        insert(SIGNUP_INBOX).values(
            email=_normal(signup.email),
            signup=signup.fields,
            time_scale=signup.time_scale,
            received_at=signup.received_at,
            attempts=0,
        )
    )


def _normal(email: str) -> str:
    return email.strip().lower()  # Python's lower, not SQL's (SQLite's folds ASCII only)


def newest(conn: Connection) -> int:
    """The id of the newest held opt-in (0 if none): a pass takes up to it, so arrivals cannot keep it going."""
    return int(conn.execute(select(func.coalesce(func.max(SIGNUP_INBOX.c.id), 0))).scalar_one())


def take(conn: Connection, up_to: int) -> Held | None:
    """Claim the next held opt-in with an id up to `up_to` in this transaction: the fewest failed tries first, then
    the oldest (None when there is none, or every one is claimed by another worker)."""
    oldest = (
        select(SIGNUP_INBOX.c.id)
        .where(SIGNUP_INBOX.c.id <= up_to)
        .order_by(SIGNUP_INBOX.c.attempts, SIGNUP_INBOX.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    row = conn.execute(
        delete(SIGNUP_INBOX)
        .where(SIGNUP_INBOX.c.id == oldest)
        .returning(
            SIGNUP_INBOX.c.id,
            SIGNUP_INBOX.c.email,
            SIGNUP_INBOX.c.signup,
            SIGNUP_INBOX.c.time_scale,
            SIGNUP_INBOX.c.received_at,
        )
    ).first()
    if row is None:
        return None
    return Held(row.email, dict(row.signup), row.time_scale, row.received_at, id=row.id)


def failed(conn: Connection, held: Held, give_up_after: int) -> bool:
    """Count a failed try (in its own transaction: the try's rolled back). True when it is set aside: deleted after
    `give_up_after` tries."""
    tries = conn.execute(
        update(SIGNUP_INBOX)
        .where(SIGNUP_INBOX.c.id == held.id)
        .values(attempts=SIGNUP_INBOX.c.attempts + 1)
        .returning(SIGNUP_INBOX.c.attempts)
    ).scalar_one_or_none()
    if tries is not None and tries >= give_up_after:
        conn.execute(delete(SIGNUP_INBOX).where(SIGNUP_INBOX.c.id == held.id))
        return True
    return False


def forget_address(conn: Connection, email: str) -> int:
    """An erasure: opt-ins of this address still held are dropped unworked (rows deleted)."""
    return conn.execute(delete(SIGNUP_INBOX).where(SIGNUP_INBOX.c.email == _normal(email))).rowcount


def held(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(SIGNUP_INBOX)).scalar_one())
