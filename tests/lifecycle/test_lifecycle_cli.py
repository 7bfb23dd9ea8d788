"""The lifecycle commands as users run them: a subprocess against a real database (no Temporal needed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from nurture.db.tables import PURCHASE
from tests.lifecycle.helpers import add_contact
from tests.lifecycle.test_imports_by_natural_key import CONTACTS, ORDERS

ROOT = Path(__file__).resolve().parents[2]


def nurture(engine: Engine, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "NURTURE_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "NURTURE_HOME": str(tmp_path / "home"),
        "NURTURE_LOG_LEVEL": "WARNING",
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-c", "from nurture.cli import main; main()", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.slow
def test_import_owners_leads_and_stages_from_the_command_line(sqlite_engine: Engine, tmp_path: Path) -> None:
    engine = sqlite_engine  # the writers are tested on both databases; this proves the commands
    contacts, orders, bad = tmp_path / "crm.csv", tmp_path / "orders.csv", tmp_path / "bad.csv"
    contacts.write_text(CONTACTS)
    orders.write_text(ORDERS)
    bad.write_text("order_id,email,amount,ordered_at\nZ-1,ghost@example.com,1,2026-03-01\nZ-2,,1,2026-03-01\n")
    with engine.begin() as conn:
        add_contact(conn, "ada@example.com")

    assert nurture(engine, tmp_path, "owners", "set", "amy", "--team", "emea", "--name", "Amy").returncode == 0
    done = nurture(engine, tmp_path, "import", "contacts", str(contacts))
    assert done.returncode == 0, done.stderr
    assert "2 lines, 1 created" in done.stdout
    refused = nurture(engine, tmp_path, "import", "orders", str(bad))
    assert refused.returncode == 1
    assert "line 2: no contact with ghost@example.com" in refused.stderr
    assert "line 3: needs an email or an external_id" in refused.stderr
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(PURCHASE)).scalar_one() == 0
    assert nurture(engine, tmp_path, "import", "orders", str(orders)).returncode == 0
    twice = nurture(engine, tmp_path, "import", "orders", str(orders))
    assert "0 created" in twice.stdout and "2 unchanged" in twice.stdout

    top = nurture(engine, tmp_path, "leads", "top", "--stage", "customer")
    assert top.returncode == 0 and "orders worth 1200" in top.stdout
    moved = nurture(engine, tmp_path, "stage", "set", "1", "lead", "--why", "refunded", "--by", "ops-kim")
    assert moved.returncode == 0, moved.stderr
    assert "customer -> lead (back)" in moved.stdout
    history = nurture(engine, tmp_path, "stage", "history", "1")
    assert "operator ops-kim" in history.stdout and "refunded" in history.stdout
    printed = nurture(engine, tmp_path, "leads", "digest", "--print")
    assert printed.returncode == 0 and "Leads for Amy" in printed.stdout
