"""The console's rows: users (one writer: `add_user`), sessions, and the audit trail (one writer: `audit`).

Nothing here commits: callers own the unit of work. Users come from the database or from configuration
(`NURTURE_CONSOLE_USERS`, hashes only); a database user of the same name wins.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from nurture.db import ConsoleAudit, ConsoleSession, ConsoleUser


@dataclass(frozen=True)
class SignedIn:
    """A live console session: who, and the CSRF token every POST of theirs must carry."""

    username: str
    csrf_token: str


def add_user(session: Session, username: str, password_hash: str, now: datetime) -> bool:
    """Create the user, or set a new password for an existing one; True when created."""
    row = session.exec(select(ConsoleUser).where(ConsoleUser.username == username)).first()
    created = row is None
    row = row or ConsoleUser(username=username, password_hash=password_hash, created_at=now)
    row.password_hash, row.disabled = password_hash, False
    session.add(row)
    return created


def password_hash_of(session: Session, username: str, configured: dict[str, str]) -> str | None:
    row = session.exec(select(ConsoleUser).where(ConsoleUser.username == username)).first()
    if row is not None:
        return None if row.disabled else row.password_hash
    return configured.get(username)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, username: str, now: datetime, lifetime: timedelta) -> tuple[str, SignedIn]:
    """A new session; returns the cookie token (stored only as its hash) and the session."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.exec(delete(ConsoleSession).where(col(ConsoleSession.expires_at) < now))
    session.add(
        ConsoleSession(
            token_hash=_digest(token), username=username, csrf_token=csrf, created_at=now, expires_at=now + lifetime
        )
    )
    return token, SignedIn(username, csrf)


def find_session(session: Session, token: str, now: datetime) -> SignedIn | None:
    row = session.get(ConsoleSession, _digest(token))
    if row is None or row.expires_at <= now:
        return None
    return SignedIn(row.username, row.csrf_token)


def close_session(session: Session, token: str) -> None:
    row = session.get(ConsoleSession, _digest(token))
    if row is not None:
        session.delete(row)


def audit(session: Session, username: str, action: str, target: str, detail: dict[str, Any], now: datetime) -> None:
    session.add(ConsoleAudit(at=now, username=username, action=action, target=target, detail=detail))


def audit_trail(session: Session, target: str, limit: int = 100) -> list[ConsoleAudit]:
    return list(
        session.exec(
            select(ConsoleAudit)
            .where(ConsoleAudit.target == target)
            .order_by(col(ConsoleAudit.at).desc(), col(ConsoleAudit.id).desc())
            .limit(limit)
        ).all()
    )
