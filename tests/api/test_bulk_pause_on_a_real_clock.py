"""Bulk pause and resume on a real clock, through every real part: the operator's HTTP call records the operation,
the background runner turns it into outbox rows, the relay enrolls and signals the journeys on the dev server, and
the real worker (real activities, the database) stops sending within seconds; resume sends again.

Journey time is compressed (a journey day is a quarter of a second), so while paused a b2c_cultivation journey
would have sent several two-weekly drops; the test asserts none went out, then that each journey sends again
after the resume."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select
from temporalio.testing import WorkflowEnvironment

from activities.journey import journey_activities
from nurture import workflow_ids
from nurture.clock import utcnow
from nurture.context import AppContext
from nurture.db import Touch
from nurture.db.engine import session_scope
from nurture.inbound.contacts import ContactIn, upsert_contact
from nurture.redaction import Redactor
from tests.api.test_journeys_hear_events import FAST_RELAY, start_contact_ids_high, status
from tests.fixtures.api import AUTH, api_settings, free_port, served_api
from workers.journey_worker import build_worker

DAY = 0.25  # seconds of real time per journey day: a two-week cadence is 3.5 s
SCALE = 86400 / DAY
PAUSED_FOR = 9.0  # seconds: more than two cadences of journey time
CONTACTS = 3


def drops(engine: Engine, cid: int) -> int:
    with session_scope(engine) as s:
        sent = select(func.count()).select_from(Touch).where(Touch.contact_id == cid, Touch.status == "sent")
        return int(s.exec(sent).one())


async def until(check: Any, within: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {within:g} s waiting for {what}")
        await asyncio.sleep(0.2)


@pytest.mark.slow
async def test_bulk_pause_stops_drops_within_seconds_and_resume_sends_again(
    dev_server_env: WorkflowEnvironment,
    sqlite_engine: Engine,
    task_queue: str,
    webhook_key: tuple[Any, str],
) -> None:
    engine, client = sqlite_engine, dev_server_env.client
    key, public_key = webhook_key
    start_contact_ids_high(engine)
    now = utcnow()
    with engine.begin() as conn:  # homeowners: b2c_cultivation, which holds nobody out
        ids = [
            upsert_contact(
                conn,
                ContactIn(
                    email=f"pause{n}@example.net",
                    consent_source="test",
                    consent_at=now,
                    persona="homeowner",
                    first_name=f"P{n}",
                    time_zone="UTC",
                    topics=("mowers",),
                ),
                now,
                time_scale=SCALE,  # the relay enrolls them in b2c_cultivation by their persona
                redactor=Redactor.of(),
            ).contact_id
            for n in range(CONTACTS)
        ]
    settings = api_settings(free_port(), public_key, task_queue=task_queue)
    worker = build_worker(
        client, settings, engine, activities=journey_activities(settings, engine), task_queue=task_queue
    )
    async with worker:
        ctx = AppContext(settings, engine, client)
        async with served_api(ctx, key, time_scale=SCALE, relay=True, relay_options=FAST_RELAY) as api:
            handles = [client.get_workflow_handle(workflow_ids.journey_workflow_id("b2c_cultivation", c)) for c in ids]

            async def all_sent_twice() -> bool:
                return all(drops(engine, cid) >= 2 for cid in ids)

            await until(all_sent_twice, 40, "two drops each before the pause")

            pause = {"action": "pause", "journey": "b2c_cultivation", "reason": "pricing error in the copy"}
            answer = await api.http.post("/journeys/bulk", json=pause, headers=AUTH)
            assert answer.status_code == 200, answer.text
            paused_at = asyncio.get_running_loop().time()

            async def all_paused() -> bool:
                return all([(await status(h)).paused for h in handles])

            await until(all_paused, 10, "every journey paused")
            took = asyncio.get_running_loop().time() - paused_at
            assert took < 10, f"the pause reached every journey after {took:.1f} s"
            await asyncio.sleep(0.5)  # a drop already in its activity when the signal arrived may still land
            held = {cid: drops(engine, cid) for cid in ids}
            await asyncio.sleep(PAUSED_FOR)
            assert {cid: drops(engine, cid) for cid in ids} == held, "a paused journey sent a drop"
            assert all([(await status(h)).paused for h in handles])

            resume = {"action": "resume", "journey": "b2c_cultivation", "reason": "copy fixed"}
            answer = await api.http.post("/journeys/bulk", json=resume, headers=AUTH)
            assert answer.status_code == 200, answer.text

            async def all_sent_again() -> bool:
                return all(drops(engine, cid) > held[cid] for cid in ids)

            await until(all_sent_again, 30, "a drop each after the resume")
            assert not any([(await status(h)).paused for h in handles])
            for h in handles:
                await h.terminate("test over")
