"""End to end with a real worker, the real journey activities and the relay: journeys hear what happened.

On the ingest tests' own dev server (a real clock, see tests/fixtures/api.py); journey time is compressed
with `time_scale` instead of skipped.

A contact opts in over HTTP, the relay enrolls it, the journey sends a drop and waits for a pricing-page view;
an anonymous pricing view then `/identify` moves it on (through a real score); the one-click unsubscribe URL
from the drop's own headers ends the journey within seconds and nothing is sent after.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine
from sqlmodel import select
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.journey import journey_activities
from nurture import sendgrid_args, temporal_names, workflow_ids
from nurture.clock import utcnow
from nurture.config import Settings
from nurture.context import AppContext
from nurture.db import Contact, OutboxEmail, Score, Touch
from nurture.db.engine import session_scope
from nurture.db.types import ROW_ID_MAX
from tests.api.payloads import contact, event
from tests.fixtures.api import AUTH, ServedApi, api_settings, free_port, served_api
from workers.journey_worker import build_worker
from workflows.payloads import JourneyResult, JourneyStatus

TIME_SCALE = 1000.0  # two weeks of journey time = 20 minutes: nothing times out while the test runs
FAST_RELAY = {"idle_seconds": 0.2, "max_backoff_seconds": 0.5, "rpc_timeout_seconds": 1.0}


@asynccontextmanager
async def journey_stack(
    client: Client, engine: Engine, task_queue: str, key: Any, public_key: str, **overrides: Any
) -> AsyncIterator[ServedApi]:
    """Worker (real activities, dev outbox sender) + API with its relay, sharing one database."""
    start_contact_ids_high(engine)
    settings: Settings = api_settings(free_port(), public_key, task_queue=task_queue, **overrides)
    worker = build_worker(
        client, settings, engine, activities=journey_activities(settings, engine), task_queue=task_queue
    )
    async with worker:
        ctx = AppContext(settings, engine, client)
        async with served_api(ctx, key, time_scale=TIME_SCALE, relay=True, relay_options=FAST_RELAY) as api:
            yield api


def start_contact_ids_high(engine: Engine) -> None:
    """The Temporal server outlives each test's database: distinct contact ids keep workflow ids distinct."""
    now = utcnow()
    with session_scope(engine) as s:
        placeholder = (1 + secrets.randbelow(ROW_ID_MAX // 1000 - 2)) * 1000  # ids stay in the INTEGER range
        s.add(Contact(id=placeholder, email=f"seq-{placeholder}@example.invalid", created_at=now, updated_at=now))


async def status(handle: WorkflowHandle[Any, Any]) -> JourneyStatus:
    return await handle.query(temporal_names.QUERY_STATUS, result_type=JourneyStatus)


async def wait_for_step(handle: WorkflowHandle[Any, Any], words: str, within: float = 10.0) -> JourneyStatus:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            current = await status(handle)
            if words in current.step or words in current.last_decision:
                return current
        except Exception:
            pass
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"journey never reached {words!r}")
        await asyncio.sleep(0.1)


async def wait_closed(handle: WorkflowHandle[Any, Any], within: float) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"journey still running {within} s after the unsubscribe")
        await asyncio.sleep(0.1)


def drops(engine: Engine, contact_id: int) -> list[OutboxEmail]:
    with session_scope(engine) as s:
        touches = select(Touch.id).where(Touch.contact_id == contact_id, Touch.journey != "opt_in")
        return list(s.exec(select(OutboxEmail).where(OutboxEmail.touch_id.in_(touches))).all())  # type: ignore[attr-defined]


async def test_identified_pricing_view_moves_the_journey_and_one_click_unsubscribe_ends_it(
    dev_server_env: WorkflowEnvironment,
    sqlite_engine: Engine,
    task_queue: str,
    webhook_key: tuple[Any, str],
) -> None:
    engine = sqlite_engine
    async with journey_stack(dev_server_env.client, engine, task_queue, *webhook_key) as api:
        await api.http.post("/track", json={"anonymous_id": "v-42", "url": "https://ledgerline.example/blog/close"})
        opted_in = await api.http.post(
            "/contacts",
            json={"email": "ada@acme.example", "persona": "finance-lead", "consent": {"source": "whitepaper form"}},
            headers=AUTH,
        )
        cid = opted_in.json()["contact_id"]
        handle = dev_server_env.client.get_workflow_handle(
            workflow_ids.journey_workflow_id("b2b_drip", cid), result_type=JourneyResult
        )
        await wait_for_step(handle, "page_view(/pricing*)")
        assert len(drops(engine, cid)) == 1

        await api.http.post("/track", json={"anonymous_id": "v-42", "url": "https://ledgerline.example/pricing"})
        token = opted_in.json()["contact_token"]  # what the site's server hands the browser after the form
        identified = await api.http.post("/identify", json={"anonymous_id": "v-42", "contact_token": token})
        assert identified.json()["events_attributed"] == 2

        moved = await wait_for_step(handle, "not ready yet")  # heard the view, checked readiness at once
        assert "pricing page" in moved.why
        with session_scope(engine) as s:
            scores = s.exec(select(Score).where(Score.contact_id == cid)).all()
        assert any(item["kind"] == "pricing page" for item in scores[-1].explanation)

        unsubscribe = drops(engine, cid)[0].headers["List-Unsubscribe"].strip("<>")
        assert drops(engine, cid)[0].headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        response = await api.http.post(urlsplit(unsubscribe).path, content=b"List-Unsubscribe=One-Click")
        assert response.status_code == 200

        await wait_closed(handle, within=5.0)
        result = await handle.result()
        assert result.outcome == "unsubscribe"
        assert contact(engine, cid).status == "suppressed"
        await asyncio.sleep(0.5)
        assert len(drops(engine, cid)) == 1  # nothing after the unsubscribe
        await api.until(lambda: not api.outbox(delivered_at=None), what="the outbox to drain")


async def test_webhook_click_and_unsubscribe_reach_the_journey(
    dev_server_env: WorkflowEnvironment,
    sqlite_engine: Engine,
    task_queue: str,
    webhook_key: tuple[Any, str],
) -> None:
    engine = sqlite_engine
    async with journey_stack(dev_server_env.client, engine, task_queue, *webhook_key) as api:
        opted_in = await api.http.post(
            "/contacts",
            json={"email": "it@acme.example", "persona": "it-lead", "consent": {"source": "newsletter"}},
            headers=AUTH,
        )
        cid = opted_in.json()["contact_id"]
        handle = dev_server_env.client.get_workflow_handle(
            workflow_ids.journey_workflow_id("b2b_drip", cid), result_type=JourneyResult
        )
        await wait_for_step(handle, "page_view(/pricing*) or clicked")
        drop = drops(engine, cid)[0]

        click = event(
            "click",
            cid,
            message="m1",
            **{sendgrid_args.CUSTOM_ARG_ITEM: drop.custom_args[sendgrid_args.CUSTOM_ARG_ITEM]},
        )
        batch = [event("delivered", cid, message="m1"), event("open", cid, message="m1"), click]
        assert (await api.post_events(batch)).status_code == 200
        assert (await api.post_events(list(reversed(batch)))).json()["stored"] == 0  # posted twice: once
        heard = await wait_for_step(handle, "heard clicked")
        assert heard.why == "https://ledgerline.example/guide"

        assert (await api.post_events([event("unsubscribe", cid, message="m1")])).status_code == 200
        await wait_closed(handle, within=5.0)
        assert (await handle.result()).outcome == "unsubscribe"
        assert len(drops(engine, cid)) == 1
