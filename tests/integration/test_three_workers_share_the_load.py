"""Three worker processes on one dev server and one PostgreSQL database: journeys finish and a broadcast reaches
everyone, with one worker killed (kill -9) mid-way, and no drop goes out twice."""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from pydantic import SecretStr
from temporalio.api.enums.v1 import EventType, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.testing import WorkflowEnvironment

from nurture import sendgrid_args, workflow_ids
from nurture.broadcasts.audience import Audience
from nurture.broadcasts.models import BroadcastCreate
from nurture.broadcasts.service import DeliveryOptions
from nurture.context import AppContext
from nurture.db.engine import make_engine
from nurture.fakes.sendgrid import FakeSendGrid
from tests.broadcasts.rig import Rig, rig_settings
from tests.fixtures.api import free_port, served_api
from tests.fixtures.db import _truncate_all
from tests.fixtures.temporal import temporal_environ
from workflows.payloads import JourneyResult

ROOT = Path(__file__).resolve().parents[2]
FAST = 86400 / 0.04  # a 20-week journey in about 6 s
N_BROADCAST = 18
N_FINISHING = 6


@pytest_asyncio.fixture
async def pg_rig(
    dev_server_env: WorkflowEnvironment, pg_session_database: str, task_queue: str
) -> AsyncIterator[tuple[Rig, FakeSendGrid]]:
    _truncate_all(pg_session_database)
    engine = make_engine(pg_session_database)
    port = free_port()
    with FakeSendGrid(
        auto_events=("processed", "delivered"), webhook_url=f"http://127.0.0.1:{port}/webhooks/sendgrid"
    ) as fake:
        settings = rig_settings(
            task_queue,
            database_url=pg_session_database,
            sendgrid_api_key=SecretStr(fake.api_key),
            sendgrid_host=fake.url,
            sendgrid_webhook_public_key=fake.public_key_b64,
            api_port=port,
            public_base_url=f"http://127.0.0.1:{port}",
        )
        rig = Rig(dev_server_env.client, engine, settings)
        try:
            yield rig, fake
        finally:
            await rig.cleanup()
            engine.dispose()


def start_worker(rig: Rig, fake: FakeSendGrid, home: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        **fake.env(),
        **temporal_environ(rig.client),
        "NURTURE_DATABASE_URL": rig.engine.url.render_as_string(hide_password=False),
        "NURTURE_TASK_QUEUE": rig.settings.task_queue,
        "NURTURE_TRACKING_SECRET": rig.settings.tracking_secret.get_secret_value(),
        "NURTURE_PUBLIC_BASE_URL": rig.settings.public_base_url,
        "NURTURE_SEND_EVIDENCE_WINDOW": "PT5S",
        "NURTURE_HOME": str(home),
        "NURTURE_LOG_LEVEL": "WARNING",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "workers.journey_worker"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )


async def until_polling(rig: Rig, n: int, *, timeout: float) -> None:
    """Wait until `n` distinct workers poll the journeys' task queue for workflow tasks."""
    request = DescribeTaskQueueRequest(
        namespace=rig.client.namespace,
        task_queue=TaskQueue(name=rig.settings.task_queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        pollers = (await rig.client.workflow_service.describe_task_queue(request)).pollers
        if len({p.identity for p in pollers}) >= n:
            return
        assert asyncio.get_running_loop().time() < deadline, f"only {len(pollers)} of {n} workers polling"
        await asyncio.sleep(0.5)


@pytest.mark.slow
async def test_three_workers_finish_journeys_and_a_broadcast_with_one_killed_and_no_drop_twice(
    pg_rig: tuple[Rig, FakeSendGrid], webhook_key: Any, tmp_path: Path
) -> None:
    rig, fake = pg_rig
    rig.options = DeliveryOptions(chunk_seconds=1.0, settle_seconds=5)
    audience_ids = [rig.contact("finance-lead", ["compliance"]) for _ in range(N_BROADCAST)]
    finishing = [rig.contact("finance-lead", ["compliance"]) for _ in range(N_FINISHING)]
    audience = Audience(journeys=["b2b_drip"], contact_ids=audience_ids)
    workers = [start_worker(rig, fake, tmp_path / f"home{n}", tmp_path / f"worker{n}.log") for n in range(3)]
    try:
        # All three must be polling before the journeys start: the first worker up on two busy cores would
        # otherwise take every new journey (and keep it on its sticky queue), and nothing would be shared.
        await until_polling(rig, len(workers), timeout=90)
        async with served_api(AppContext(rig.settings, rig.engine, rig.client), webhook_key[0]):
            for cid in audience_ids:
                await rig.enroll(cid, "b2b_drip")
            for cid in finishing:
                await rig.enroll(cid, "b2b_drip", time_scale=FAST)
            await rig.until(lambda: len(rig.sent_touches(audience_ids)) == N_BROADCAST, 60, "every first drop")
            await rig.visible(audience, N_BROADCAST)
            await asyncio.sleep(0.6)  # past the minimum gap since the first drops: every journey will drop
            created = await rig.svc.create(
                BroadcastCreate(
                    item_id="bc-einvoicing-2027", audience=audience, rate_per_second=4.0, id=f"three-{rig.base}"
                ),
                "t",
            )
            await rig.svc.start(created.id, "t")
            await rig.until(lambda: len(rig.deliveries(created.id)) >= 5, 30, "the broadcast under way", every=0.02)
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait(10)
            assert len(rig.deliveries(created.id)) < N_BROADCAST, "the kill came after the broadcast: nothing tested"

            await rig.until(lambda: rig.finished(created.id), 120, "the broadcast to finish")
            await rig.until(lambda: len(rig.deliveries(created.id)) == N_BROADCAST, 120, "every journey to report")
            results: list[JourneyResult] = await asyncio.wait_for(
                asyncio.gather(
                    *(
                        rig.client.get_workflow_handle(
                            workflow_ids.journey_workflow_id("b2b_drip", cid), result_type=JourneyResult
                        ).result()
                        for cid in finishing
                    )
                ),
                150,
            )
            identities = set()
            for cid in finishing:
                handle = rig.client.get_workflow_handle(workflow_ids.journey_workflow_id("b2b_drip", cid))
                async for e in handle.fetch_history_events():
                    if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
                        identities.add(e.workflow_task_started_event_attributes.identity)
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)

    assert all(r.outcome == "completed" for r in results), [(r.contact_id, r.outcome) for r in results]
    assert len(identities) >= 2, "the journeys' work was shared between workers"
    assert {outcome for outcome, _ in rig.deliveries(created.id).values()} == {"dropped"}
    broadcast_touches = rig.sent_touches(broadcast_id=created.id)
    assert sorted(t.contact_id for t in broadcast_touches) == sorted(audience_ids)  # one each
    sent = collections.Counter(
        (m.custom_args[sendgrid_args.CUSTOM_ARG_CONTACT], m.custom_args[sendgrid_args.CUSTOM_ARG_ITEM])
        for m in fake.messages
    )
    assert sent and max(sent.values()) == 1, f"a drop went out twice: {[k for k, v in sent.items() if v > 1]}"
    for result in results:
        delivered = {item for (cid, item) in sent if cid == str(result.contact_id)}
        assert delivered == set(result.items), "every drop a journey counts as sent reached SendGrid once"
