"""kill -9 the worker in the middle of running journeys, start it again: no journey is lost, no drop goes twice."""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import SecretStr
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.testing import WorkflowEnvironment

from nurture import sendgrid_args, workflow_ids
from nurture.clock import utcnow
from nurture.config import Settings
from nurture.context import AppContext
from nurture.db import Touch
from nurture.fakes.sendgrid import FakeSendGrid
from nurture.inbound.contacts import ContactIn, upsert_contact
from nurture.journey_client import enroll
from nurture.redaction import Redactor
from tests.fixtures.api import api_settings, free_port, served_api
from tests.fixtures.measurement import treated_by_b2b_drip
from tests.fixtures.temporal import temporal_environ
from tests.integration.test_journeys_on_dev_server import add_people, eventually
from workflows.payloads import JourneyResult

DAY = 0.04  # seconds per journey day: a 20-week journey takes about 6 s
SCALE = 86400 / DAY
CONTACTS = 6
ROOT = Path(__file__).resolve().parents[2]


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "workers.journey_worker"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def touches(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(Touch)).one())


async def test_kill_dash_nine_loses_no_journey_and_sends_no_drop_twice(
    dev_server_env: WorkflowEnvironment,
    task_queue: str,
    sqlite_engine: Engine,
    fake_sendgrid: FakeSendGrid,
    sendgrid_settings: Settings,
    tmp_path: Path,
) -> None:
    client = dev_server_env.client
    db_url = str(sqlite_engine.url)
    settings = sendgrid_settings.model_copy(update={"task_queue": task_queue, "database_url": db_url})
    ids = add_people(sqlite_engine)  # Ada (B2B) and Sam (B2C), plus more finance leads:
    ids = [c for n, c in enumerate(ids) if n == 1 or treated_by_b2b_drip(c)]  # Sam is B2C: no holdout there
    with sqlite_engine.begin() as conn:
        n = 0
        while len(ids) < CONTACTS:  # the worker's b2b_drip holds out a tenth: only leads it sends to
            contact = ContactIn(email=f"lead{n}@corp{n}.example", consent_source="test", consent_at=utcnow(),
                                first_name=f"Lead{n}", persona="finance-lead", time_zone="UTC")  # fmt: skip
            n, cid = n + 1, upsert_contact(conn, contact, utcnow(), redactor=Redactor.of()).contact_id
            if treated_by_b2b_drip(cid):
                ids.append(cid)
    journeys = {cid: ("b2c_cultivation" if n == 1 else "b2b_drip") for n, cid in enumerate(ids)}

    env = {
        **os.environ,
        **fake_sendgrid.env(),
        **temporal_environ(client),
        "NURTURE_DATABASE_URL": db_url,
        "NURTURE_TASK_QUEUE": task_queue,
        "NURTURE_SENDGRID_TIMEOUT_SECONDS": "2",
        "NURTURE_SEND_EVIDENCE_WINDOW": "PT5S",  # a drop cut off before SendGrid heard of it goes again after 5 s
        "NURTURE_TRACKING_SECRET": SecretStr("test-tracking-secret").get_secret_value(),
        "NURTURE_HOME": str(tmp_path / "home"),
        "NURTURE_LOG_LEVEL": "WARNING",
    }
    log = tmp_path / "worker.log"
    # SendGrid's events reach the webhook: a drop in flight at the kill is settled by them, not left unknown
    port = free_port()
    fake_sendgrid.webhook_url, fake_sendgrid.auto_events = f"http://127.0.0.1:{port}/webhooks/sendgrid", ("processed",)
    api_ctx = AppContext(api_settings(port, fake_sendgrid.public_key_b64, database_url=db_url), sqlite_engine, client)
    webhook = served_api(api_ctx, ec.generate_private_key(ec.SECP256R1()))
    await webhook.__aenter__()
    worker = start_worker(env, log)
    try:
        for cid, journey in journeys.items():
            await enroll(client, sqlite_engine, settings, cid, journey, time_scale=SCALE)
        await eventually(lambda: touches(sqlite_engine) >= 2 * CONTACTS, 30, "journeys to be under way")
        before_kill = touches(sqlite_engine)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        await asyncio.sleep(1.0)  # journeys' timers fire with no worker: their tasks wait on the server
        assert touches(sqlite_engine) == before_kill, "nothing runs while the worker is dead"
        worker = start_worker(env, log)
        results: list[JourneyResult] = await asyncio.wait_for(
            asyncio.gather(
                *(
                    client.get_workflow_handle(
                        workflow_ids.journey_workflow_id(j, cid), result_type=JourneyResult
                    ).result()
                    for cid, j in journeys.items()
                )
            ),
            180,  # generous: a liveness bound on two busy cores, not a timing claim
        )
    finally:
        worker.kill()
        worker.wait(10)
        await webhook.__aexit__(None, None, None)

    assert before_kill < sum(r.drops_sent for r in results), "the kill came in the middle of the journeys"
    assert all(r.outcome == "completed" for r in results), [(r.contact_id, r.outcome) for r in results]
    sent = collections.Counter(
        (m.custom_args[sendgrid_args.CUSTOM_ARG_CONTACT], m.custom_args[sendgrid_args.CUSTOM_ARG_ITEM])
        for m in fake_sendgrid.messages
    )
    assert sent and max(sent.values()) == 1, f"a drop went out twice: {[k for k, v in sent.items() if v > 1]}"
    with Session(sqlite_engine) as session:
        rows = session.exec(select(Touch)).all()
    for result in results:
        mine = [t for t in rows if t.contact_id == result.contact_id]
        assert len(mine) == len({t.item_id for t in mine}) == result.drops_sent == len(result.items)
        assert {t.status for t in mine} == {"sent"}  # settled by SendGrid's events, even the one cut off
        delivered = {item for (cid, item) in sent if cid == str(result.contact_id)}
        assert delivered == set(result.items)
