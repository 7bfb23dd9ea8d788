"""The real worker (real activities, SQLite, the fake SendGrid over HTTP) on the real Temporal dev server.

Proves what ops relies on: search attributes and visibility, the status query, and that Temporal never holds an
email address or a name, anywhere in any history.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable

from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from nurture import search_attributes, temporal_names, workflow_ids
from nurture.clock import utcnow
from nurture.config import Settings
from nurture.db import SignalOutbox, Touch
from nurture.fakes.sendgrid import FakeSendGrid
from nurture.inbound.contacts import ContactIn, upsert_contact
from nurture.inbound.web import PageViewIn, store_page_view
from nurture.journey_client import enroll
from nurture.outbound.relay import signal_arg
from nurture.redaction import Redactor
from workers.journey_worker import build_worker
from workflows.payloads import JourneyStatus

REDACTOR = Redactor.of()


DAY = 0.25  # seconds of real time per journey day
SCALE = 86400 / DAY

PEOPLE = [
    ("ada.lovelace@northwind.example", "Ada", "Lovelace", "Northwind Supply", "finance-lead", ["compliance"]),
    ("sam.gardener@example.net", "Samwise", "Gardener", "Bagshot Row Gardens", "homeowner", ["mowers"]),
]


def add_people(engine: Engine) -> list[int]:
    now = utcnow()
    ids = []
    with engine.begin() as conn:
        for email, first, last, company, persona, topics in PEOPLE:
            contact = ContactIn(
                email=email, consent_source="test", consent_at=now, first_name=first, last_name=last,
                company=company, persona=persona, time_zone="Europe/Paris", topics=tuple(topics),
            )  # fmt: skip
            ids.append(upsert_contact(conn, contact, now, redactor=REDACTOR).contact_id)
    return ids


def readable_history(node: object) -> str:
    """The history as text with every payload decoded (payload bytes are base64 in the JSON form)."""
    parts: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            if "data" in value and "metadata" in value and isinstance(value["data"], str):
                parts.append(base64.b64decode(value["data"]).decode("utf-8", "replace"))
            for key, child in value.items():
                parts.append(str(key))
                walk(child)
        elif isinstance(value, list):
            for child in value:
                walk(child)
        elif isinstance(value, str):
            parts.append(value)

    walk(node)
    return "\n".join(parts)


async def eventually(check: Callable[[], object], within: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


async def status_of(client: Client, journey: str, contact_id: int) -> JourneyStatus:
    handle = client.get_workflow_handle(workflow_ids.journey_workflow_id(journey, contact_id))
    result: JourneyStatus = await handle.query(temporal_names.QUERY_STATUS, result_type=JourneyStatus)
    return result


async def test_search_attributes_status_and_no_pii_in_any_history(
    dev_server_env: WorkflowEnvironment,
    task_queue: str,
    sqlite_engine: Engine,
    fake_sendgrid: FakeSendGrid,
    sendgrid_settings: Settings,
) -> None:
    client = dev_server_env.client
    settings = sendgrid_settings.model_copy(update={"task_queue": task_queue, "api_token": SecretStr("t0ken-x")})
    ada, sam = add_people(sqlite_engine)
    async with build_worker(client, settings, sqlite_engine):
        await enroll(client, sqlite_engine, settings, ada, "b2b_drip", time_scale=SCALE)
        await enroll(client, sqlite_engine, settings, sam, "b2c_cultivation", time_scale=SCALE)

        async def two_drops() -> bool:
            return (await status_of(client, "b2b_drip", ada)).drops_sent >= 1 and (
                await status_of(client, "b2c_cultivation", sam)
            ).drops_sent >= 1

        await eventually(two_drops, 20, "first drops")
        # Ada visits pricing while her journey waits: readiness is checked at once. The page view takes the
        # door's path (stored, routed to the outbox, turned into a signal as the relay does) with her email
        # address in the URL's path and query: neither may reach the history.
        handle = client.get_workflow_handle(workflow_ids.journey_workflow_id("b2b_drip", ada))
        email = PEOPLE[0][0]
        url = f"https://ledgerline.example/pricing/for/{email}?email={email}&name=Ada"
        with sqlite_engine.begin() as conn:
            store_page_view(
                conn, PageViewIn(url=url, occurred_at=utcnow(), contact_id=ada), utcnow(), redactor=REDACTOR
            )
        with Session(sqlite_engine) as session:
            row = session.exec(select(SignalOutbox).where(SignalOutbox.signal == temporal_names.SIGNAL_PAGE_VIEW)).one()
        assert row.payload["url"] == "https://ledgerline.example/pricing/for/redacted"
        await handle.signal(row.signal, signal_arg(row.signal, row.payload))

        async def checked() -> bool:
            return (await status_of(client, "b2b_drip", ada)).last_decision in ("not ready yet", "ready for sales")

        await eventually(checked, 20, "a readiness check")
        status = await status_of(client, "b2b_drip", ada)
        assert status.journey == "b2b_drip" and status.contact_id == ada
        assert status.items_sent and status.items_sent[0].startswith("b2b-")
        assert "score 25 vs 45" in status.why and "grade " in status.why  # readiness explains both axes
        assert status.next_wake_at is not None

        # Visibility: ops find the journey by search attributes, with live values.
        query = f"NurtureJourney = 'b2b_drip' AND NurtureContactId = '{ada}' AND NurtureDropsSent >= 1"

        async def visible() -> bool:
            return [wf.id async for wf in client.list_workflows(query)] == [
                workflow_ids.journey_workflow_id("b2b_drip", ada)
            ]

        await eventually(visible, 20, "visibility to index the journey")
        found = [wf async for wf in client.list_workflows(query)][0]
        sa = found.typed_search_attributes
        assert sa.get(search_attributes.SA_PERSONA) == "finance-lead"
        assert sa.get(search_attributes.SA_PHASE) in ("nurturing", "with_sales")
        assert sa.get(search_attributes.SA_NEXT_DROP_AT) is not None
        described = await handle.describe()
        assert await described.static_summary() == f"b2b_drip for contact {ada}"

    # The emails really carried the PII (rendered from the database) ...
    assert any("Ada" in json.dumps(m.body) for m in fake_sendgrid.messages)
    # ... and no history holds any of it: ids only in Temporal.
    histories = []
    ids = [workflow_ids.journey_workflow_id("b2b_drip", ada), workflow_ids.journey_workflow_id("b2c_cultivation", sam)]
    query = " OR ".join(f"WorkflowId = '{workflow_id}'" for workflow_id in ids)
    async for wf in client.list_workflows(f"TaskQueue = '{task_queue}' AND ({query})"):
        history = await client.get_workflow_handle(wf.id, run_id=wf.run_id).fetch_history()
        histories.append(readable_history(history.to_json_dict()))
    assert len(histories) >= 2
    blob = "\n".join(histories)
    assert "b2b-" in blob and "NurtureJourney" in blob, "payloads decoded: item ids and search attributes visible"
    for email, first, last, company, *_ in PEOPLE:
        for pii in (email, email.split("@")[0], first, last, company):
            assert pii not in blob, f"{pii!r} leaked into a Temporal history"
    with Session(sqlite_engine) as session:
        touches = session.exec(select(Touch).where(Touch.contact_id == ada)).all()
    assert touches and all(t.status == "sent" for t in touches)
    for workflow_id in ids:  # the dev server is shared by the session: leave no journey behind
        await client.get_workflow_handle(workflow_id).terminate("test over")
