"""Killing the worker (kill -9) in the middle of a broadcast and starting it again finishes the broadcast,
and no contact acts twice: one delivery per journey, one broadcast touch per contact."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from temporalio.api.enums.v1 import EventType

from nurture import workflow_ids
from nurture.broadcasts.audience import Audience
from nurture.broadcasts.models import BroadcastCreate
from nurture.broadcasts.service import DeliveryOptions
from tests.broadcasts.rig import Rig
from tests.fixtures.temporal import temporal_environ

N = 24
RATE = 4.0  # signals/s: 6 s of signalling, so the kill lands mid-broadcast, and mostly between journeys' acts
ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def worker_process(rig: Rig, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m workers.journey_worker` against the test's dev server and database."""
    env = {
        **os.environ,
        **temporal_environ(rig.client),
        "NURTURE_DATABASE_URL": rig.engine.url.render_as_string(hide_password=False),
        "NURTURE_TASK_QUEUE": rig.settings.task_queue,
        "NURTURE_TRACKING_SECRET": rig.settings.tracking_secret.get_secret_value(),
        "NURTURE_LOG_LEVEL": "WARNING",
    }
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "workers.journey_worker"], cwd=ROOT, env=env, stdout=out, stderr=out
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


async def test_killing_the_worker_mid_broadcast_finishes_it_with_no_contact_acting_twice(
    rig: Rig, tmp_path: Path
) -> None:
    rig.options = DeliveryOptions(chunk_seconds=1.0, settle_seconds=5)
    contacts = [rig.contact("finance-lead", ["compliance"]) for _ in range(N)]
    audience = Audience(journeys=["b2b_drip"], contact_ids=contacts)
    log = tmp_path / "worker.log"

    with worker_process(rig, log) as first:
        for cid in contacts:
            await rig.enroll(cid, "b2b_drip")
        await rig.until(lambda: len(rig.sent_touches(contacts)) == N, within=30, what="every first drop")
        await rig.visible(audience, N)
        await asyncio.sleep(0.6)  # past the minimum gap since the first drops: every journey will drop
        created = await rig.svc.create(
            BroadcastCreate(
                item_id="bc-einvoicing-2027", audience=audience, rate_per_second=RATE, id=f"kill-{rig.base}"
            ),
            "t",
        )
        await rig.svc.start(created.id, "t")
        # Kill just after a journey reported: the next signal is ~250 ms away, so no journey is mid-activity
        # (a journey killed mid-activity is fine too, it just waits for that activity's timeout, up to 60 s).
        await rig.until(lambda: len(rig.deliveries(created.id)) >= 6, 15, "the broadcast under way", every=0.02)
        first.send_signal(signal.SIGKILL)
        first.wait()
    before = len(rig.deliveries(created.id))
    assert before < N, "the worker died after the broadcast was over: nothing was tested"

    with worker_process(rig, log):
        # Recovery waits out the dead worker's leases: the chunk's heartbeat (5 s), sticky workflow tasks (10 s),
        # and, if the kill caught a journey mid-send, that activity's timeout (60 s).
        await rig.until(lambda: rig.finished(created.id), within=45, what="the broadcast to finish")
        await rig.until(lambda: len(rig.deliveries(created.id)) == N, within=80, what="every journey to report")
        status = await rig.svc.status(created.id)

    deliveries = rig.deliveries(created.id)
    assert len(deliveries) == N
    assert {outcome for outcome, _ in deliveries.values()} == {"dropped"}
    touches = rig.sent_touches(broadcast_id=created.id)
    assert sorted(t.contact_id for t in touches) == sorted(contacts)  # one each: nobody acted twice
    assert (status.state, status.total, status.signalled, status.signal_failed, status.acted) == (
        "completed", N, N, 0, N
    )  # fmt: skip
    # The crash really interrupted the broadcast: one of its activities (or workflow tasks) had to run again.
    handle = rig.client.get_workflow_handle(workflow_ids.broadcast_workflow_id(created.id))
    interrupted = [
        e
        async for e in handle.fetch_history_events()
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT
        or (
            e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
            and e.activity_task_started_event_attributes.attempt > 1
        )
    ]
    assert interrupted, "nothing in the broadcast's history shows the kill"
