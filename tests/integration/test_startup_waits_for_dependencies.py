"""Processes started while the database or Temporal is down wait, say so, and start once it answers."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from temporalio.testing import WorkflowEnvironment

from tests.fixtures.db import _pg_admin, _pg_url, drop_pg_database
from tests.fixtures.temporal import temporal_environ
from tests.integration.proxy import LateProxy, free_port
from tests.integration.test_journeys_on_dev_server import eventually

ROOT = Path(__file__).resolve().parents[2]
NURTURE = [sys.executable, "-c", "from nurture.cli import main; main()"]


@pytest.fixture
def empty_pg_database(pg_template: str) -> Iterator[str]:
    name = f"nurture_empty_{uuid.uuid4().hex[:10]}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        drop_pg_database(name)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "NURTURE_HOME": str(tmp_path / "home"),
        "NURTURE_TRACKING_SECRET": "test-tracking-secret",
        "NURTURE_LOG_LEVEL": "INFO",
        "NURTURE_LOG_JSON": "true",
        **extra,
    }


def _started(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


@pytest.mark.slow
async def test_migrate_started_before_the_database_waits_then_migrates(empty_pg_database: str, tmp_path: Path) -> None:
    base = _pg_url(empty_pg_database)
    proxy = LateProxy("127.0.0.1", 5432)
    url = base.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    assert url != base
    log = tmp_path / "migrate.log"
    proc = _started([*NURTURE, "migrate"], _env(tmp_path, NURTURE_DATABASE_URL=url), log)
    try:
        await eventually(lambda: log.read_text().count("startup.waiting") >= 2, 60, "migrate to say it waits")
        assert proc.poll() is None, log.read_text()  # still waiting, not exited
        await proxy.open()
        code = await asyncio.to_thread(proc.wait, 60)
        assert code == 0, log.read_text()
        assert "database schema is current" in log.read_text()
        with psycopg.connect(base) as conn:
            version = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        assert version is not None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        await proxy.close()


@pytest.mark.slow
async def test_worker_started_before_temporal_waits_then_polls(
    dev_server_env: WorkflowEnvironment, task_queue: str, tmp_path: Path
) -> None:
    host, _, port = dev_server_env.client.service_client.config.target_host.rpartition(":")
    proxy = LateProxy(host, int(port))
    env = _env(
        tmp_path,
        NURTURE_TEMPORAL_ADDRESS=f"127.0.0.1:{proxy.port}",
        NURTURE_TEMPORAL_NAMESPACE=dev_server_env.client.namespace,
        NURTURE_DATABASE_URL=f"sqlite:///{tmp_path / 'worker.db'}",
        NURTURE_TASK_QUEUE=task_queue,
    )
    log = tmp_path / "worker.log"
    proc = _started([sys.executable, "-m", "workers.journey_worker"], env, log)
    try:
        await eventually(lambda: '"waiting_for": "temporal"' in log.read_text(), 90, "the worker to say it waits")
        assert proc.poll() is None, log.read_text()
        await proxy.open()
        await eventually(lambda: "worker.started" in log.read_text(), 90, "the worker to start once Temporal is up")
        await eventually(lambda: (tmp_path / "home" / "worker.alive").exists(), 30, "the liveness file")
        assert proc.poll() is None, log.read_text()
    finally:
        proc.kill()
        proc.wait()
        await proxy.close()


@pytest.mark.slow
async def test_worker_and_api_started_before_the_database_wait_then_start(
    empty_pg_database: str, dev_server_env: WorkflowEnvironment, task_queue: str, tmp_path: Path
) -> None:
    base = _pg_url(empty_pg_database)
    proxy = LateProxy("127.0.0.1", 5432)
    env = _env(
        tmp_path,
        NURTURE_DATABASE_URL=base.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}"),
        **temporal_environ(dev_server_env.client),
        NURTURE_TASK_QUEUE=task_queue,
    )
    worker_log, api_log = tmp_path / "worker.log", tmp_path / "api.log"
    worker = _started([sys.executable, "-m", "workers.journey_worker"], env, worker_log)
    api = _started([*NURTURE, "api", "--port", str(free_port())], env, api_log)
    try:
        for log in (worker_log, api_log):
            said = log.read_text
            await eventually(lambda: '"waiting_for": "database"' in said(), 90, f"{log.stem} to say it waits")  # noqa: B023
        assert worker.poll() is None and api.poll() is None, worker_log.read_text() + api_log.read_text()
        await proxy.open()
        await eventually(lambda: "worker.started" in worker_log.read_text(), 90, "the worker once the database is up")
        await eventually(lambda: '"startup.ready"' in api_log.read_text(), 90, "the API once the database is up")
        assert worker.poll() is None and api.poll() is None, worker_log.read_text() + api_log.read_text()
    finally:
        for proc in (worker, api):
            proc.kill()
            proc.wait()
        await proxy.close()
