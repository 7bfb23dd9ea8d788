"""The real journey activities on a real worker: a B2B drip runs a simulated year against the fake SendGrid.

Proves the activities fit the runtime's contract (names, payloads, retries): a throttled and a failing first
attempt are retried by Temporal and still send each drop exactly once, and the journey's end is recorded.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import select
from temporalio.testing import WorkflowEnvironment

from activities.journey import journey_activities
from nurture import sendgrid_args, temporal_names
from nurture.config import Settings
from nurture.db import Enrollment, Touch
from nurture.db.engine import session_scope
from nurture.fakes.sendgrid import FakeSendGrid
from tests.activities.helpers import add_contact, enroll
from workers.journey_worker import build_worker
from workflows.payloads import JourneyInput, JourneyResult


async def test_b2b_drip_sends_each_drop_once_through_sendgrid_despite_throttling_and_errors(
    time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    sqlite_engine: Engine,
    fake_sendgrid: FakeSendGrid,
    sendgrid_settings: Settings,
) -> None:
    cid = add_contact(sqlite_engine, persona="finance-lead")
    workflow_id = enroll(sqlite_engine, cid, "b2b_drip")
    fake_sendgrid.fail_next(429, retry_after=1)
    fake_sendgrid.fail_next(500)
    client = time_skipping_env.client
    acts = journey_activities(sendgrid_settings, sqlite_engine)
    async with build_worker(client, sendgrid_settings, sqlite_engine, activities=acts, task_queue=task_queue):
        result = await client.execute_workflow(
            temporal_names.JOURNEY_WORKFLOW,
            JourneyInput(journey="b2b_drip", contact_id=cid, persona="finance-lead", time_zone="UTC"),
            id=workflow_id,
            task_queue=task_queue,
            result_type=JourneyResult,
        )

    assert result.outcome == "completed"
    messages = fake_sendgrid.messages
    assert [m.custom_args[sendgrid_args.CUSTOM_ARG_ITEM] for m in messages] == result.items
    assert len(set(result.items)) == len(result.items) == result.drops_sent > 3
    assert [r.status for r in fake_sendgrid.requests][:3] == [429, 500, 202]
    with session_scope(sqlite_engine) as s:
        touches = s.exec(select(Touch).where(Touch.contact_id == cid).order_by(Touch.id)).all()
        enrollment = s.exec(select(Enrollment).where(Enrollment.workflow_id == workflow_id)).one()
    assert [(t.item_id, t.status, t.message_id) for t in touches] == [
        (m.custom_args[sendgrid_args.CUSTOM_ARG_ITEM], "sent", m.message_id) for m in messages
    ]
    assert enrollment.outcome == "completed"
    assert enrollment.ended_at is not None
