"""The `nurture` CLI as users run it: a subprocess against a real dev server and a real database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.testing import WorkflowEnvironment

from nurture import workflow_ids
from nurture.config import Settings
from nurture.db import Contact, Enrollment
from tests.fixtures.temporal import temporal_environ
from workers.journey_worker import build_worker

ROOT = Path(__file__).resolve().parents[2]


def nurture(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from nurture.cli import main; main()", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def cli_env(dev_server_env: WorkflowEnvironment, engine: Engine, task_queue: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        **temporal_environ(dev_server_env.client),
        "NURTURE_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "NURTURE_TASK_QUEUE": task_queue,
        "NURTURE_HOME": str(tmp_path / "home"),
        "NURTURE_LOG_LEVEL": "WARNING",
        "COLUMNS": "80",  # a narrow terminal: ids must still print whole
    }


def contacts(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(Contact)).one())


async def test_a_csv_with_one_bad_row_imports_nothing_and_says_which_lines(
    dev_server_env: WorkflowEnvironment, engine: Engine, task_queue: str, tmp_path: Path
) -> None:
    csv_file = tmp_path / "people.csv"
    csv_file.write_text(
        "email,first_name,persona,time_zone\n"
        "ok@example.com,Ok,finance-lead,Europe/Paris\n"
        "not-an-email,Bad,finance-lead,UTC\n"
        "tz@example.com,Tz,finance-lead,Mars/Olympus\n"
        "ok@example.com,Again,finance-lead,UTC\n"
    )
    done = await asyncio.to_thread(
        nurture, cli_env(dev_server_env, engine, task_queue, tmp_path), "enroll", "--csv", str(csv_file)
    )
    assert done.returncode == 2
    assert "nothing imported" in done.stderr
    assert "line 3: invalid email 'not-an-email'" in done.stderr
    assert "line 4: unknown time zone 'Mars/Olympus'" in done.stderr
    assert "line 5: duplicate of line 2" in done.stderr
    assert contacts(engine) == 0


async def test_enroll_a_csv_then_status_and_journeys_show_them(
    dev_server_env: WorkflowEnvironment, engine: Engine, task_queue: str, tmp_path: Path
) -> None:
    env = cli_env(dev_server_env, engine, task_queue, tmp_path)
    csv_file = tmp_path / "people.csv"
    csv_file.write_text(
        "email,first_name,last_name,company,persona,time_zone,topics\n"
        "ines@acme.example,Ines,Moreau,Acme,finance-lead,Europe/Paris,compliance\n"
        "tom@example.net,Tom,Baker,,homeowner,Europe/London,mowers;lawn-care\n"
    )
    settings = Settings(_env_file=None, task_queue=task_queue)  # type: ignore[call-arg]
    async with build_worker(dev_server_env.client, settings, engine):
        done = await asyncio.to_thread(nurture, env, "enroll", "--csv", str(csv_file), "--time-scale", "1")
        assert done.returncode == 0, done.stderr
        assert "2 contact(s) saved; 2 enrollment(s) delivered" in done.stdout
        with Session(engine) as session:
            enrolled = session.exec(select(Enrollment)).all()
        assert sorted(e.journey for e in enrolled) == ["b2b_drip", "b2c_cultivation"]
        ines = next(e.contact_id for e in enrolled if e.journey == "b2b_drip")

        again = await asyncio.to_thread(nurture, env, "enroll", "--csv", str(csv_file))
        assert again.returncode == 0, again.stderr
        assert "0 enrollment(s)" in again.stdout, "re-running the same file enrolls nobody twice"

        status = await asyncio.to_thread(nurture, env, "status", str(ines))
        assert status.returncode == 0, status.stderr
        assert workflow_ids.journey_workflow_id("b2b_drip", ines) in status.stdout
        assert "lead score" in status.stdout
        assert "phase" in status.stdout

        for _ in range(10):  # visibility indexes within a moment
            listing = await asyncio.to_thread(nurture, env, "journeys", "--journey", "b2b_drip")
            assert listing.returncode == 0, listing.stderr
            if "1 journey(s)" in listing.stdout:
                break
            await asyncio.sleep(0.5)
        assert "1 journey(s)" in listing.stdout
        assert f" {ines} " in listing.stdout and "b2b_drip" in listing.stdout, "ids are never cut at 80 columns"

        bad = await asyncio.to_thread(nurture, env, "event", str(ines), "teleported")
        assert bad.returncode == 2
        assert "unknown event kind" in bad.stderr

        for e in enrolled:
            await dev_server_env.client.get_workflow_handle(e.workflow_id).terminate("test over")
