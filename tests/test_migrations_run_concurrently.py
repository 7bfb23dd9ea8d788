"""Two processes migrating one fresh database at once (worker and API starting together) both succeed."""

from __future__ import annotations

import multiprocessing
import uuid
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from nurture.db.engine import make_engine, migrate
from tests.fixtures.db import _pg_admin, _pg_url

PROCESSES = 2


def _migrate_after(barrier: Barrier, url: str) -> None:
    barrier.wait(timeout=60)  # both processes start upgrading in the same instant
    migrate(url)


def _migrate_concurrently(url: str) -> list[int | None]:
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(PROCESSES)
    procs = [spawn.Process(target=_migrate_after, args=(barrier, url)) for _ in range(PROCESSES)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    return [p.exitcode for p in procs]


def _assert_at_head(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
            tables = set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
    assert len(versions) == 1
    assert {"contact", "event", "rejectedevent", "signaloutbox"} <= tables


@pytest.mark.slow
def test_two_processes_migrate_one_fresh_postgresql_database_at_once(pg_template: str) -> None:
    name = f"nurture_migrate_race_{uuid.uuid4().hex[:8]}"  # parallel runs (xdist, other clones) never collide
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        assert _migrate_concurrently(_pg_url(name)) == [0] * PROCESSES
        _assert_at_head(_pg_url(name))
    finally:
        with _pg_admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.slow
def test_two_processes_migrate_one_fresh_sqlite_database_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"

    assert _migrate_concurrently(url) == [0] * PROCESSES
    _assert_at_head(url)
