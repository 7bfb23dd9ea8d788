"""The browser console's own tables: its users, their sessions, and the audit trail of what they did."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from nurture.db.types import UTCDateTime


class ConsoleUser(SQLModel, table=True):
    """A person who signs in to the console. `password_hash` is an argon2id hash, never the password."""

    __tablename__ = "console_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=120, unique=True)
    password_hash: str = Field(max_length=300)
    disabled: bool = Field(default=False)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ConsoleSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored here."""

    __tablename__ = "console_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    username: str = Field(max_length=120, index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ConsoleAudit(SQLModel, table=True):
    """One thing a console user did (sign-in, broadcast created/started/paused/...), with what it concerned."""

    __tablename__ = "console_audit"
    __table_args__ = (Index("ix_console_audit_target", "target", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    username: str = Field(max_length=120)
    action: str = Field(max_length=60)
    target: str = Field(default="", max_length=200)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
