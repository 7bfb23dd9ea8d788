"""A contact's whole life in simulated time, across b2b_drip, sales acceptance and customer_care, on SQLite and
PostgreSQL: subscriber -> lead (CRM import) -> MQL (fit and behaviour, handed to a named owner) -> SAL and customer
(a verdict the journey hears directly) -> customer_care (onboarding, loyalty, the advocacy ask) -> advocate. The
stored stage history (from, to, when, why, actor) is then read back from the database, the lifecycle API and
`nurture status`."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment

from nurture import temporal_names
from nurture.context import AppContext
from nurture.db.tables import HANDOFF, OWNER
from nurture.lifecycle.imports import import_file
from nurture.lifecycle.routing import OwnerSpec, upsert_owner
from nurture.lifecycle.stages import StageRecord, stage_history
from nurture.workflow_ids import journey_workflow_id
from tests.fixtures.api import AUTH, api_settings, free_port, served_api
from tests.lifecycle.helpers import STRONG, add_contact, profile_csv, unique_contact_id
from tests.workflows.scenario import (
    LifecycleRecorder,
    click_email,
    journey_handle,
    relay_to,
    running_worker,
    start_journey,
    status_of,
    until_phase,
    visit_page,
)
from workflows.payloads import SalesFeedback

ROOT = Path(__file__).resolve().parents[2]
B2B = {"persona": "finance-lead", "time_zone": "Europe/London", "topics": ["compliance"]}
EMAIL = "vp@northwind.example"
NOT_HAD = "b2c_cultivation"
WITHIN = timedelta(hours=1)  # a move is stored when its cause happened (timers fire milliseconds late)


def _expected(cid: int, handoff: int, pricing: datetime, accepted: datetime, referred: datetime) -> list[Any]:
    drip, care = journey_workflow_id("b2b_drip", cid), journey_workflow_id("customer_care", cid)
    return [
        (None, "subscriber", "opt_in", None),
        ("subscriber", "lead", "import", "crm.csv (contacts)"),
        ("lead", "mql", "journey_step", drip, pricing),
        ("mql", "sal", "sales_verdict", f"handoff-{handoff}", accepted),
        ("sal", "customer", "sales_verdict", f"handoff-{handoff}", accepted),
        ("customer", "advocate", "journey_step", care, referred),
    ]


def _check_history(history: list[StageRecord], expected: list[Any]) -> None:
    assert [(h.from_stage, h.to_stage, h.actor_kind) for h in history] == [e[:3] for e in expected]
    for h, e in zip(history[1:], expected[1:], strict=True):
        assert h.actor_id == e[3], (h, e)
        if len(e) > 4:
            assert timedelta(0) <= h.at - e[4] < WITHIN, (h, e)
    mql, sal, customer, advocate = history[2:]
    assert mql.why.startswith("ready: grade A+: decision maker (role=VP Finance, +4)"), mql.why
    fit, behaviour = mql.why.split("; score ", 1)
    assert "recent pricing page visit" in fit and "pricing page" in behaviour, "both axes named"
    assert (sal.why, customer.why) == ("demo booked", "accepted by sales: demo booked")
    assert advocate.why == "acted on the advocacy ask: https://x.example/refer"
    assert [h.at for h in history] == sorted(h.at for h in history)


def _nurture_status(engine: Engine, env: WorkflowEnvironment, tmp_path: Path, cid: int) -> str:
    environ = {
        **os.environ,
        "NURTURE_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "NURTURE_TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "NURTURE_HOME": str(tmp_path / "home"),
        "NURTURE_LOG_LEVEL": "WARNING",
        "COLUMNS": "400",
    }
    done = subprocess.run(
        # `--journey` names one the contact never had: the time-skipping server cannot list workflows (and describes
        # a closed one with search attributes the client cannot decode); the lifecycle part comes from the database
        [sys.executable, "-c", "from nurture.cli import main; main()", "status", str(cid), "--journey", NOT_HAD],
        cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.slow
async def test_a_subscriber_becomes_an_advocate_and_every_stage_is_stored_with_why_and_who(
    time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    engine: Engine,
    webhook_key: tuple[Any, str],
    tmp_path: Path,
) -> None:
    env, rec = time_skipping_env, LifecycleRecorder(engine=engine)
    start = await env.get_current_time()
    with engine.begin() as conn:
        cid = add_contact(conn, EMAIL, at=start, contact_id=unique_contact_id())
        upsert_owner(conn, OwnerSpec("amy", "emea", name="Amy Rep", time_zone="Europe/London"), start)
        lead = profile_csv(EMAIL, STRONG | {"lifecycle_stage": "lead"})  # the CRM sync: who they are, a lead
        assert import_file(conn, "contacts", lead, name="crm.csv (contacts)", now=start).stages_moved == 1
    relay = relay_to(env, task_queue, engine)
    care = journey_handle(env, "customer_care", cid)
    async with running_worker(env, task_queue, engine, rec):
        drip = await start_journey(env, task_queue, "b2b_drip", cid, **B2B)
        await env.sleep(timedelta(days=3))  # the first drop is out; the journey listens for a pricing visit
        pricing = await visit_page(env, drip, engine, cid, "https://x.example/pricing")
        handed = await until_phase(env, drip, "with_sales", timedelta(minutes=10))
        with engine.connect() as conn:
            handoff, owner = conn.execute(
                select(HANDOFF.c.id, OWNER.c.key).join(OWNER, OWNER.c.id == HANDOFF.c.owner_id)
            ).one()
        assert owner == "amy" and handed.last_decision == "handed to sales"

        accepted = await env.get_current_time()  # sales tells the journey directly: no door, no outbox row
        await drip.signal(
            temporal_names.SIGNAL_SALES_FEEDBACK, replace(SalesFeedback(True, "demo booked"), handoff_id=handoff)
        )
        assert (await drip.result()).outcome == "customer"
        assert len((await relay.deliver_pending()).delivered) == 1, "acceptance enrolled the customer journey"

        await env.sleep(timedelta(days=17))  # two onboarding drops a week apart, then the first loyalty drop
        await click_email(env, care, engine, cid, clicks=5)  # engaged (5 x 5 >= 20): the advocacy ask follows
        await env.sleep(timedelta(days=4))
        asked = await status_of(care)
        assert asked.items_sent[-1] == "cc-refer", (asked.items_sent, asked.last_decision, asked.why)
        referred = await visit_page(env, care, engine, cid, "https://x.example/refer")
        cared = await care.result()
    items = [s.item_id for s in rec.sent(cid) if s.journey == "customer_care"]
    assert items[:2] == ["cc-welcome", "cc-first-close"] and items[-1] == "cc-refer", items
    assert cared.outcome == "completed"

    expected = _expected(cid, handoff, pricing, accepted, referred)
    with engine.connect() as conn:
        _check_history(stage_history(conn, cid), expected)

    settings = api_settings(free_port(), webhook_key[1])
    async with served_api(AppContext(settings, engine, env.client), webhook_key[0]) as api:
        answer = await api.http.get(f"/contacts/{cid}/stages", headers=AUTH)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["stage"] == "advocate"
    shown = [(h["from"], h["to"], h["actor"]["kind"], h["actor"]["id"], h["why"]) for h in body["history"]]
    with engine.connect() as conn:
        stored = [(h.from_stage, h.to_stage, h.actor_kind, h.actor_id, h.why) for h in stage_history(conn, cid)]
    assert shown == stored

    out = _nurture_status(engine, env, tmp_path, cid)
    assert "Advocate (advocate)" in out and "owner" in out and "amy" in out
    for _, to, kind, actor, why in stored:
        assert f"{kind}:{actor}" in out and to in out and why[:40] in out, (to, why)
