"""Migration 0003 gives every existing contact its consent trail: the opt-in it had, and its suppression."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from nurture.db.engine import alembic_config, make_engine
from tests.fixtures.db import _pg_admin, _pg_url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    request.getfixturevalue("pg_template")  # skips when PostgreSQL is not reachable
    name = f"nurture_m_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_url(name)
    finally:
        with _pg_admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_existing_contacts_get_their_opt_in_and_suppression_as_consent_rows(empty_url: str) -> None:
    command.upgrade(alembic_config(empty_url), "0002")
    engine = make_engine(empty_url)
    insert = text(
        "INSERT INTO contact (email, first_name, last_name, company, persona, time_zone, topics, status, "
        "consent_source, consent_at, consent_ip, suppressed_reason, suppressed_at, created_at, updated_at) VALUES "
        "(:email, '', '', '', 'general', 'UTC', '[]', :status, 'form', :at, '10.0.0.1', :reason, :gone, :at, :at)"
    )
    with engine.begin() as conn:
        for email, status, reason in (
            ("a@x.example", "active", None),
            ("p@x.example", "pending_confirmation", None),
            ("u@x.example", "suppressed", "unsubscribe"),
            ("b@x.example", "suppressed", "bounce"),
        ):
            gone = "2026-02-01 00:00:00" if reason else None
            conn.execute(
                insert, {"email": email, "status": status, "at": "2026-01-01 00:00:00", "reason": reason, "gone": gone}
            )
    engine.dispose()

    command.upgrade(alembic_config(empty_url), "0003")

    engine = make_engine(empty_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.email, k.action, k.source, k.ip, k.actor FROM consent k "
                "JOIN contact c ON c.id = k.contact_id ORDER BY c.email, k.occurred_at"
            )
        ).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("a@x.example", "granted", "form", "10.0.0.1", "migration"),
        ("b@x.example", "granted", "form", "10.0.0.1", "migration"),
        ("b@x.example", "suppressed", "bounce", None, "migration"),
        ("p@x.example", "requested", "form", "10.0.0.1", "migration"),
        ("u@x.example", "granted", "form", "10.0.0.1", "migration"),
        ("u@x.example", "withdrawn", "unsubscribe", None, "migration"),
    ]
    command.downgrade(alembic_config(empty_url), "0002")  # and back
