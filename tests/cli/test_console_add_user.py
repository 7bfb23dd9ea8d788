"""`nurture console add-user` stores an argon2id hash (never the password), updates on a second run, and refuses
short passwords; `hash-password` prints a hash that verifies."""

from __future__ import annotations

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from nurture.cli import _register, app
from nurture.console import passwords
from nurture.db import ConsoleUser
from nurture.db.engine import make_engine, session_scope


def test_add_user_stores_a_hash_and_refuses_short_passwords(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _register()
    monkeypatch.setenv("NURTURE_DATABASE_URL", db_url)
    runner = CliRunner()
    first = runner.invoke(app, ["console", "add-user", "ada", "--password-stdin"], input="first long password\n")
    assert first.exit_code == 0, first.output
    assert "added console user ada" in first.output
    again = runner.invoke(app, ["console", "add-user", "ada", "--password-stdin"], input="second long password\n")
    assert again.exit_code == 0 and "updated" in again.output
    short = runner.invoke(app, ["console", "add-user", "bob", "--password-stdin"], input="short\n")
    assert short.exit_code == 2
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as s:
            users = s.exec(select(ConsoleUser)).all()
    finally:
        engine.dispose()
    assert [u.username for u in users] == ["ada"]
    stored = users[0].password_hash
    assert stored.startswith("$argon2id$") and "long password" not in stored
    assert passwords.verify(stored, "second long password") and not passwords.verify(stored, "first long password")

    printed = runner.invoke(app, ["console", "hash-password", "--password-stdin"], input="for the config file\n")
    assert printed.exit_code == 0 and passwords.verify(printed.output.strip(), "for the config file")
