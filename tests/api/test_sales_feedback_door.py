"""The CRM answers a handoff over HTTP: the verdict reaches the journey (through the outbox and relay), names the
handoff it answers, and a changed or unknown verdict is refused. Real worker, activities and dev server."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import select
from temporalio.testing import WorkflowEnvironment

from nurture import temporal_names, workflow_ids
from nurture.clock import utcnow
from nurture.db import Handoff
from nurture.db.engine import session_scope
from tests.activities.helpers import add_event
from tests.api.test_journeys_hear_events import journey_stack, wait_closed, wait_for_step
from tests.fixtures.api import API_TOKEN
from tests.lifecycle.helpers import STRONG, profile_csv
from workflows.payloads import JourneyResult

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


async def test_the_crm_accepts_a_handed_off_lead_over_http_and_the_journey_ends_with_a_customer(
    dev_server_env: WorkflowEnvironment,
    sqlite_engine: Engine,
    task_queue: str,
    webhook_key: tuple[Any, str],
) -> None:
    engine = sqlite_engine
    async with journey_stack(dev_server_env.client, engine, task_queue, *webhook_key) as api:
        opted_in = await api.http.post(
            "/contacts",
            json={"email": "ron@acme.example", "persona": "finance-lead", "consent": {"source": "demo request"}},
            headers=AUTH,
        )
        cid, token = opted_in.json()["contact_id"], opted_in.json()["contact_token"]
        crm = await api.http.post(  # the CRM sync brings who Ron is: readiness weighs fit beside behaviour
            "/imports/contacts", content=profile_csv("ron@acme.example", STRONG), headers=AUTH
        )
        assert crm.status_code == 200, crm.text
        handle = dev_server_env.client.get_workflow_handle(
            workflow_ids.journey_workflow_id("b2b_drip", cid), result_type=JourneyResult
        )
        await wait_for_step(handle, "page_view(/pricing*)")
        for days_ago in (1, 2, 3):  # a lead that has been all over the pricing pages this week
            at = utcnow() - timedelta(days=days_ago)
            add_event(engine, cid, "page_view", at, url="https://ledgerline.example/pricing/teams")
        viewed = await api.http.post(
            "/track", json={"contact_id": cid, "contact_token": token, "url": "https://ledgerline.example/pricing"}
        )
        assert viewed.status_code == 200, viewed.text
        await wait_for_step(handle, "handed to sales")
        with session_scope(engine) as s:
            handoff = s.exec(select(Handoff).where(Handoff.contact_id == cid)).one()
        assert handoff.id is not None
        path = f"/handoffs/{handoff.id}/feedback"

        no_token = await api.http.post(path, json={"accepted": True})
        unknown = await api.http.post("/handoffs/999999/feedback", json={"accepted": True}, headers=AUTH)
        bad = await api.http.post(path, json={"accepted": "maybe"}, headers=AUTH)
        accepted = await api.http.post(path, json={"accepted": True, "reason": "demo booked"}, headers=AUTH)
        again = await api.http.post(path, json={"accepted": True, "reason": "demo booked"}, headers=AUTH)
        changed = await api.http.post(path, json={"accepted": False, "reason": "oops"}, headers=AUTH)

        assert (no_token.status_code, unknown.status_code, bad.status_code) == (401, 404, 422)
        assert accepted.status_code == again.status_code == 202
        assert (accepted.json()["queued"], again.json()["queued"]) == (True, False)
        assert changed.status_code == 409
        await wait_closed(handle, within=10.0)
        result = await handle.result()
        assert result.outcome == "customer"
        with session_scope(engine) as s:
            row = s.get(Handoff, handoff.id)
            assert row is not None
            assert (row.status, row.feedback_reason) == ("accepted", "demo booked")
        signals = [o for o in api.outbox(contact_id=cid) if o.signal == temporal_names.SIGNAL_SALES_FEEDBACK]
        assert len(signals) == 1 and signals[0].payload["handoff_id"] == handoff.id
