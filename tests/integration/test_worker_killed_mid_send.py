"""kill -9 a worker while it waits for SendGrid's answer: SendGrid took the message and says so through the Event
Webhook, so the journey continues within seconds on another worker and the drop ends sent exactly once."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.testing import WorkflowEnvironment

from nurture import sendgrid_args, workflow_ids
from nurture.clock import utcnow
from nurture.context import AppContext
from nurture.db import Touch
from nurture.db.tables import CONTACT
from nurture.fakes.sendgrid import FakeSendGrid
from nurture.journey_client import enroll
from tests.fixtures.api import api_settings, free_port, served_api
from tests.fixtures.measurement import next_treated
from tests.fixtures.temporal import temporal_environ
from tests.integration.test_journeys_on_dev_server import eventually

DAY = 0.05  # seconds per journey day
SCALE = 86400 / DAY
ROOT = Path(__file__).resolve().parents[2]


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "workers.journey_worker"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def drops(engine: Engine, contact_id: int) -> list[Touch]:
    with Session(engine) as s:
        return list(s.exec(select(Touch).where(Touch.contact_id == contact_id).order_by(Touch.id)).all())  # type: ignore[arg-type]


@pytest.mark.slow
async def test_a_worker_killed_mid_send_continues_within_seconds_and_the_drop_ends_sent_once_by_sendgrids_events(
    dev_server_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine, webhook_key: Any, tmp_path: Path
) -> None:
    client = dev_server_env.client
    port = free_port()
    db_url = sqlite_engine.url.render_as_string(hide_password=False)
    with FakeSendGrid(
        auto_events=("processed", "delivered"), webhook_url=f"http://127.0.0.1:{port}/webhooks/sendgrid"
    ) as fake:
        settings = api_settings(port, fake.public_key_b64, task_queue=task_queue, database_url=db_url)
        env = {
            **os.environ,
            **fake.env(),
            **temporal_environ(client),
            "NURTURE_DATABASE_URL": db_url,
            "NURTURE_TASK_QUEUE": task_queue,
            "NURTURE_TRACKING_SECRET": settings.tracking_secret.get_secret_value(),
            "NURTURE_PUBLIC_BASE_URL": settings.public_base_url,
            "NURTURE_HOME": str(tmp_path / "home"),
            "NURTURE_LOG_LEVEL": "WARNING",
        }
        now = utcnow()
        # The session's dev server is shared: an id of its own, so no earlier test's journey/b2b_drip/contact-N
        # (ended, never restarted) stands in the way.
        cid = next_treated(1_000_000 + uuid.uuid4().int % 1_000_000)  # the worker's b2b_drip holds out a tenth
        with sqlite_engine.begin() as conn:
            conn.execute(
                insert(CONTACT),
                [{"id": cid, "email": "ada@ledger.example", "status": "active", "topics": [], "created_at": now,
                  "updated_at": now, "first_name": "Ada", "last_name": "", "company": "", "persona": "finance-lead",
                  "time_zone": "UTC", "consent_source": "test"}],
            )  # fmt: skip
        log = tmp_path / "worker.log"
        async with served_api(AppContext(settings, sqlite_engine, client), webhook_key[0]):
            fake.delay_next(15.0)  # SendGrid takes the first drop at once but answers late: the worker dies waiting
            first = start_worker(env, log)
            second: subprocess.Popen[bytes] | None = None
            try:
                await enroll(client, sqlite_engine, settings, cid, "b2b_drip", time_scale=SCALE)
                await eventually(lambda: len(fake.requests) >= 1, 60, "the first drop to reach SendGrid")
                second = start_worker(env, log)  # the fleet's other worker, polling before the crash
                await asyncio.sleep(4)  # SendGrid holds its answer for 15 s: the first worker is still mid-send
                first.send_signal(signal.SIGKILL)
                first.wait(10)
                killed_at = asyncio.get_running_loop().time()
                [touch] = drops(sqlite_engine, cid)
                await eventually(
                    lambda: drops(sqlite_engine, cid)[0].status == "sent", 30, "SendGrid's events to settle the drop"
                )
                await eventually(lambda: len(drops(sqlite_engine, cid)) >= 2, 60, "the journey's next drop")
                resumed_after = asyncio.get_running_loop().time() - killed_at
            finally:
                for proc in (first, second):
                    if proc is not None and proc.poll() is None:
                        proc.kill()
                        proc.wait(10)
                with contextlib.suppress(Exception):
                    await client.get_workflow_handle(workflow_ids.journey_workflow_id("b2b_drip", cid)).terminate(
                        "test over"
                    )

    settled = drops(sqlite_engine, cid)[0]
    assert settled.id == touch.id
    accepted = [m for m in fake.messages if m.custom_args[sendgrid_args.CUSTOM_ARG_TOUCH] == str(touch.id)]
    assert len(accepted) == 1  # sent exactly once...
    assert (settled.status, settled.message_id) == ("sent", accepted[0].message_id)  # ...settled by its events
    sent = collections.Counter(m.custom_args[sendgrid_args.CUSTOM_ARG_ITEM] for m in fake.messages)
    assert max(sent.values()) == 1, sent
    print(f"journey resumed {resumed_after:.1f} s after the kill")
    # the heartbeat timeout (4 s) and a retry that finds the events there; generous: the machine is shared
    assert resumed_after < 12, f"the journey waited {resumed_after:.0f} s after the crash"
