"""Engines, sessions and migrations for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session, create_engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def normalise_url(url: str) -> str:
    """`postgresql://` and `postgres://` mean psycopg 3 here."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with sane defaults per backend (SQLite: WAL, foreign keys, busy timeout)."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    # a partitioned network fails a connect in seconds, not the OS's minutes of TCP retries (a request holds a thread)
    kwargs.setdefault("connect_args", {"connect_timeout": 10})
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def _ensure_sqlite_dir(url: str) -> None:
    parsed = make_url(normalise_url(url))
    if parsed.drivername.startswith("sqlite") and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


# pg_advisory_lock key: every nurture process migrating one database waits for the one that started first
MIGRATION_LOCK_KEY = 0x6E757274757265  # "nurture"


def migrate(url: str) -> None:
    """Bring the schema to the newest revision (idempotent; safe at every start, and from many processes at once).

    The worker and the API start together (docker-compose): each takes a lock first (PostgreSQL: an advisory
    lock held by a session of its own; SQLite: an exclusive lock on a file next to the database), so one
    migrates and the others then find the schema at head.
    """
    _ensure_sqlite_dir(url)
    with _migration_lock(url):
        command.upgrade(alembic_config(url), "head")


@contextmanager
def _migration_lock(url: str) -> Iterator[None]:
    parsed = make_url(normalise_url(url))
    if parsed.drivername.startswith("postgresql"):
        locker = create_engine(normalise_url(url), poolclass=NullPool)
        try:
            with locker.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
                    conn.commit()
        finally:
            locker.dispose()
    elif parsed.drivername.startswith("sqlite") and parsed.database and parsed.database != ":memory:":
        with open(f"{parsed.database}.migrate-lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    else:
        yield


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on error. Callers never commit half a batch."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
