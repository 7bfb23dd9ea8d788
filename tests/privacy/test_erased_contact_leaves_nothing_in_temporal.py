"""With a real Temporal server and the real activities: a contact's journey runs and sends drops, the contact
is erased, the journey ends through the outbox, and nothing personal is anywhere in its histories."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import select
from temporalio.testing import WorkflowEnvironment

from nurture import workflow_ids
from nurture.clock import utcnow
from nurture.config import Settings
from nurture.context import AppContext
from nurture.db import Contact, Enrollment, Touch
from nurture.db.engine import session_scope
from nurture.inbound.privacy import erase_contact
from nurture.outbound.relay import OutboxRelay
from tests.workflows.scenario import start_journey
from workers.journey_worker import build_worker

CID = 7_310_001
EMAIL = "ottoline.vantwest@marrowgate.example"
SECRETS = [b"ottoline", b"vantwest", b"marrowgate", b"198.51.100.23"]


async def test_erase_ends_the_journey_and_its_histories_hold_no_personal_data(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env = time_skipping_env
    settings = Settings(_env_file=None, tracking_secret=SecretStr("test-temporal-pii"))  # type: ignore[call-arg]
    now = utcnow()
    with session_scope(sqlite_engine) as s:
        s.add(Contact(id=CID, email=EMAIL, first_name="Ottoline", last_name="Vantwest", company="Marrowgate",
                      persona="finance-lead", time_zone="Europe/Berlin", topics=["compliance"],
                      consent_ip="198.51.100.23", created_at=now, updated_at=now))  # fmt: skip
        wid = workflow_ids.journey_workflow_id("b2b_drip", CID)
        s.add(Enrollment(contact_id=CID, journey="b2b_drip", workflow_id=wid,
                         enrolled_at=now))  # fmt: skip
    async with build_worker(env.client, settings, sqlite_engine, task_queue=task_queue):
        handle = await start_journey(
            env, task_queue, "b2b_drip", CID, persona="finance-lead", time_zone="Europe/Berlin", topics=["compliance"]
        )
        try:
            await env.sleep(timedelta(days=20))
            with session_scope(sqlite_engine) as s:
                sent = s.exec(select(Touch).where(Touch.contact_id == CID, Touch.status == "sent")).all()
                assert len(sent) >= 1
            with sqlite_engine.begin() as conn:
                erased = erase_contact(conn, CID, utcnow(), requested_by="dpo", reason="test")
            assert erased.exits_queued == 1
            done = await OutboxRelay(AppContext(settings, sqlite_engine, env.client)).deliver_pending()
            assert len(done.delivered) == 1
            result = await handle.result()
        finally:
            with contextlib.suppress(Exception):
                await handle.terminate("test over")
    assert result.outcome == "erased"
    leaked: list[str] = []
    events, control = 0, False
    run_id: str | None = None  # the latest run first, then back along continue-as-new
    while True:
        previous = ""
        async for event in env.client.get_workflow_handle(handle.id, run_id=run_id).fetch_history_events():
            events += 1
            raw = event.SerializeToString().lower()
            leaked += [f"{secret.decode()} in {event.event_type}" for secret in SECRETS if secret in raw]
            control = control or b"finance-lead" in raw  # the search does see payloads: the persona is there
            if event.HasField("workflow_execution_started_event_attributes"):
                previous = event.workflow_execution_started_event_attributes.continued_execution_run_id
        if not previous:
            break
        run_id = previous
    assert events > 10 and control, "the history is too short, or unreadable: that would prove nothing"
    assert leaked == []
