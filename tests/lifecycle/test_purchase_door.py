"""`POST /contacts/{id}/purchases`: the CRM reports an order; applied as an orders import line, once per order, and
the contact's running nurture journeys end in Temporal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment

from nurture.context import AppContext
from nurture.db.tables import ENROLLMENT, SIGNAL_OUTBOX
from tests.activities.helpers import add_contact
from tests.api.test_journeys_hear_events import start_contact_ids_high
from tests.fixtures.api import API_TOKEN, ServedApi, api_settings, free_port, served_api
from tests.workflows.scenario import (
    LifecycleRecorder,
    enrolled_journey,
    journey_handle,
    relay_to,
    running_worker,
    status_of,
    until_phase,
)

B2B = {"persona": "finance-lead", "time_zone": "Europe/Berlin", "topics": ["compliance"]}

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


async def test_the_purchase_door_makes_a_customer_once_per_order(api: ServedApi) -> None:
    cid = add_contact(api.ctx.engine)
    path = f"/contacts/{cid}/purchases"
    order = {"order_id": "A-1", "amount": 1200, "currency": "EUR", "product": "ledgerline-teams"}
    assert (await api.http.post(path, json=order)).status_code == 401
    first = await api.http.post(path, json=order, headers=AUTH)
    assert first.status_code == 200, first.text
    assert first.json()["created"] == 1 and first.json()["stages_moved"] == 1
    again = await api.http.post(path, json=order, headers=AUTH)
    assert again.json()["created"] == 0, "idempotent by order id"
    assert (await api.http.post("/contacts/987654/purchases", json=order, headers=AUTH)).status_code == 404
    with api.ctx.engine.connect() as conn:
        queued = conn.execute(select(SIGNAL_OUTBOX.c.journey, SIGNAL_OUTBOX.c.signal)).all()
    assert ("customer_care", "enroll_journey") in [tuple(q) for q in queued]


@pytest.mark.slow
async def test_a_purchase_through_the_door_ends_the_contacts_other_journeys_in_temporal(
    dev_server_env: WorkflowEnvironment, task_queue: str, engine: Engine, webhook_key: tuple[Any, str]
) -> None:
    """Not just a stage and an outbox row: both running nurture journeys end (goal reached) in Temporal, at once,
    and the customer journey starts. On a dev server of its own (real clock): the door runs in this event loop
    while the worker does, which stalled the shared time-skipping server's clock for later tests."""
    env, rec = dev_server_env, LifecycleRecorder(engine=engine)
    start_contact_ids_high(engine)  # the time-skipping server outlives each test's database
    cid = add_contact(engine, persona="finance-lead")
    settings = api_settings(free_port(), webhook_key[1], task_queue=task_queue)
    async with running_worker(env, task_queue, engine, rec):
        drip = await enrolled_journey(env, task_queue, engine, "b2b_drip", cid, **B2B)
        lawn = await enrolled_journey(env, task_queue, engine, "b2c_cultivation", cid, persona="homeowner")
        for handle in (drip, lawn):
            await until_phase(env, handle, "nurturing", timedelta(seconds=0.2))  # both running, waiting
        bought = await env.get_current_time()
        async with served_api(AppContext(settings, engine, env.client), webhook_key[0]) as api:
            order = {"order_id": "T-1", "amount": 900, "currency": "EUR"}
            answer = await api.http.post(f"/contacts/{cid}/purchases", json=order, headers=AUTH)
        assert answer.status_code == 200, answer.text
        assert len((await relay_to(env, task_queue, engine).deliver_pending()).delivered) == 3  # 2 exits, 1 enroll
        ended = {key: await handle.result() for key, handle in (("b2b_drip", drip), ("b2c_cultivation", lawn))}
        care = await status_of(journey_handle(env, "customer_care", cid))
    assert {r.outcome for r in ended.values()} == {"goal_reached"}
    assert care.journey == "customer_care" and care.phase != "ended"
    with engine.connect() as conn:
        closed = conn.execute(
            select(ENROLLMENT.c.journey, ENROLLMENT.c.ended_at).where(ENROLLMENT.c.contact_id == cid)
        ).all()
    ended_at = {journey: at for journey, at in closed if journey != "customer_care"}
    assert set(ended_at) == {"b2b_drip", "b2c_cultivation"} and None not in ended_at.values(), ended_at
    naive = bought.replace(tzinfo=None)
    assert all(at.replace(tzinfo=None) - naive < timedelta(hours=1) for at in ended_at.values()), "ended at once"
