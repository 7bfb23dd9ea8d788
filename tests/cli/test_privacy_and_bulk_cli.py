"""`nurture contacts export|erase` and `nurture journeys pause|resume|end` (alias `nurture bulk`) as users
run them (subprocess, real database, Temporal down)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from nurture import workflow_ids
from nurture.clock import utcnow
from nurture.db import Contact, Enrollment, Erasure
from nurture.db.engine import session_scope
from tests.activities.helpers import add_contact
from tests.cli.test_cli_commands import nurture

pytestmark = pytest.mark.slow


def env(engine: Engine, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "NURTURE_TEMPORAL_ADDRESS": "127.0.0.1:9",  # unreachable: signals wait in the outbox
        "NURTURE_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "NURTURE_HOME": str(tmp_path / "home"),
        "NURTURE_LOG_LEVEL": "WARNING",
        "COLUMNS": "200",
    }


def test_export_then_erase_then_erase_again(engine: Engine, tmp_path: Path) -> None:
    cid = add_contact(engine, email="quill@example.com", first_name="Quentin")
    with session_scope(engine) as s:
        wid = workflow_ids.journey_workflow_id("b2b_drip", cid)
        s.add(Enrollment(contact_id=cid, journey="b2b_drip", workflow_id=wid,
                         enrolled_at=utcnow()))  # fmt: skip
    exported = nurture(env(engine, tmp_path), "contacts", "export", str(cid))
    assert exported.returncode == 0, exported.stderr
    facts = json.loads(exported.stdout)
    assert facts["tables"]["contact"]["email"] == "quill@example.com" and facts["tables"]["enrollment"]

    erased = nurture(env(engine, tmp_path), "contacts", "erase", str(cid), "--reason", "asked by phone", "--by", "dpo")
    assert erased.returncode == 0, erased.stderr
    assert "1 journey exit(s) queued" in erased.stdout
    with session_scope(engine) as s:
        contact = s.get(Contact, cid)
        assert contact is not None and "quill" not in contact.email and contact.first_name == ""
        assert s.get(Erasure, 1) is not None
    again = nurture(env(engine, tmp_path), "contacts", "erase", str(cid), "--reason", "twice")
    assert again.returncode == 0 and "already erased" in again.stdout
    assert nurture(env(engine, tmp_path), "contacts", "export", "999999").returncode == 2


def test_bulk_preview_shows_count_and_sample_and_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    cid = add_contact(engine)
    with session_scope(engine) as s:
        wid = workflow_ids.journey_workflow_id("b2b_drip", cid)
        s.add(Enrollment(contact_id=cid, journey="b2b_drip", workflow_id=wid,
                         enrolled_at=utcnow()))  # fmt: skip
    e = env(engine, tmp_path)
    shown = nurture(e, "journeys", "pause", "--journey", "b2b_drip", "--reason", "r", "--preview")
    assert shown.returncode == 0, shown.stderr
    assert f"pause 1 journey(s) of b2b_drip; sample contacts: {cid}" in shown.stdout
    assert "operation" not in shown.stdout  # a preview creates nothing
    also = nurture(e, "bulk", "end", "--journey", "b2b_drip", "--stage", "decision", "--reason", "r", "--preview")
    assert also.returncode == 0 and "end 0 journey(s) of b2b_drip" in also.stdout  # the old name still works
    done = nurture(e, "journeys", "pause", "--journey", "b2b_drip", "--reason", "r", "--yes")
    assert done.returncode == 0, done.stderr
    assert "operation 1" in done.stdout and "wait in the outbox" in done.stderr
    again = nurture(e, "journeys", "continue", "1")
    assert again.returncode == 0, again.stderr
