"""Invariants with pauses, over random streams (hypothesis) in simulated time: two real journeys (b2b_drip,
b2c_cultivation) for one contact on the time-skipping server, with the real activities (caps, quiet time,
holidays and closures, the dev outbox on SQLite), random pauses and resumes of one journey (a signal) or of both
through the real bulk path (operation -> outbox -> relay), and sometimes an unsubscribe. Whatever happens:
every paused journey sends nothing until resumed, then continues with the next item where it was (an item it
skips has its reason recorded); never above a cap, outside the window or on a holiday or closure; never the
same item twice; never a drop after the unsubscribe."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import select
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from activities.journey import journey_activities
from nurture import consent, temporal_names
from nurture.binaries import temporal_test_server
from nurture.context import AppContext
from nurture.db import BulkAction, DeferredDrop, DeferredState, Touch, TouchStatus
from nurture.db.engine import session_scope
from nurture.inbound import bulk
from nurture.outbound.relay import OutboxRelay
from nurture.temporal import register_search_attributes
from tests.activities.helpers import add_contact, enroll, outbox_settings
from tests.caps.test_caps_at_the_claim import assert_sent_by_the_rules
from tests.fixtures.temporal import SERVER_STARTUP
from workers.journey_worker import build_worker
from workflows.dsl import REGISTRY
from workflows.payloads import JourneyInput, PauseRequest

pytestmark = pytest.mark.slow

TZ, COUNTRY, CAPS = "Europe/Berlin", "DE", "1/2d,3/7d"
CLOSURES = [date(2026, 12, 28), date(2027, 1, 4)]
JOURNEYS = {"b2b_drip": "finance-lead", "b2c_cultivation": "homeowner"}
DAYS = 40
SLACK = timedelta(minutes=5)  # a drop already being claimed when the pause lands may finish

# (hour, what, whom): pause or resume one journey (0, 1) or both in bulk (2)
control = st.tuples(st.integers(1, 24 * DAYS), st.sampled_from(["pause", "resume"]), st.integers(0, 2))
streams = st.lists(control, min_size=1, max_size=6)
unsubscribe_at = st.one_of(st.none(), st.integers(24 * 5, 24 * DAYS))
_n = itertools.count()


@pytest.fixture(scope="module")
def loop_and_env() -> Iterator[tuple[asyncio.AbstractEventLoop, WorkflowEnvironment]]:
    """One event loop and one time-skipping server for every hypothesis example (hypothesis runs sync tests)."""
    loop = asyncio.new_event_loop()
    env = loop.run_until_complete(
        WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=temporal_test_server(), test_server_startup_timeout=SERVER_STARTUP
        )
    )
    loop.run_until_complete(register_search_attributes(env.client))
    yield loop, env
    loop.run_until_complete(env.shutdown())
    loop.close()


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stream=streams, leaves=unsubscribe_at)
def test_paused_journeys_stay_silent_then_continue_and_every_invariant_holds(
    loop_and_env: tuple[asyncio.AbstractEventLoop, WorkflowEnvironment],
    sqlite_engine: Engine,
    stream: list[tuple[int, str, int]],
    leaves: int | None,
) -> None:
    loop, env = loop_and_env
    loop.run_until_complete(_play(env, sqlite_engine, sorted(stream), leaves))


async def _play(
    env: WorkflowEnvironment, engine: Engine, stream: list[tuple[int, str, int]], leaves: int | None
) -> None:
    n = next(_n)
    cid = add_contact(engine, email=f"pause{n}@example.com", time_zone=TZ, country=COUNTRY)
    conf = outbox_settings(drop_caps=CAPS, closure_dates=CLOSURES, deferred_drop_ttl=timedelta(days=10))
    task_queue = f"pauses-{n}"
    keys = list(JOURNEYS)
    paused: dict[str, list[list[datetime | None]]] = {k: [] for k in keys}  # [paused at, resumed at or None]
    start = await env.get_current_time()
    left_at: datetime | None = None
    relay = OutboxRelay(AppContext(conf, engine, env.client))
    async with build_worker(env.client, conf, engine, activities=journey_activities(conf, engine),
                            task_queue=task_queue):  # fmt: skip
        handles = {}
        for key, persona in JOURNEYS.items():
            wid = enroll(engine, cid, key)
            inp = JourneyInput(journey=key, contact_id=cid, persona=persona, time_zone=TZ, topics=["compliance"],
                               min_gap_seconds=conf.min_gap_between_drops.total_seconds())  # fmt: skip
            await env.client.start_workflow(temporal_names.JOURNEY_WORKFLOW, inp, id=wid, task_queue=task_queue)
            handles[key] = env.client.get_workflow_handle(wid)
        events: list[tuple[int, str, int]] = list(stream)
        if leaves is not None:
            events.append((leaves, "unsubscribe", 2))
        for hour, what, whom in sorted(events):
            at = start + timedelta(hours=hour)
            now = await env.get_current_time()
            if at > now:
                await env.sleep(at - now)
            now = await env.get_current_time()
            targets = keys if whom == 2 else [keys[whom]]
            if what == "unsubscribe":
                with engine.begin() as conn:
                    consent.suppress(conn, {cid: "unsubscribe"}, now)
                left_at = now
                break
            if whom == 2:  # the operator's bulk door: one operation per journey, delivered by the relay
                for key in keys:
                    with engine.begin() as conn:
                        action = BulkAction.PAUSE if what == "pause" else BulkAction.RESUME
                        op = bulk.create(conn, action, bulk.BulkAudience(key, contact_ids=(cid,)), "test", "ops", now)
                        bulk.process_batch(conn, op, now)
                assert (await relay.deliver_pending()).delivered
            else:
                signal = (
                    temporal_names.SIGNAL_PAUSE_JOURNEY if what == "pause" else temporal_names.SIGNAL_RESUME_JOURNEY
                )
                with contextlib.suppress(RPCError):  # a journey that finished its catalog hears nothing
                    await handles[targets[0]].signal(signal, PauseRequest())
            for key in targets:
                spans = paused[key]
                if what == "pause" and (not spans or spans[-1][1] is not None):
                    spans.append([now, None])
                elif what == "resume" and spans and spans[-1][1] is None:
                    spans[-1][1] = now
        now = await env.get_current_time()
        end = start + timedelta(days=DAYS + 25)
        if end > now:
            await env.sleep(end - now)
        for handle in handles.values():
            with contextlib.suppress(RPCError):
                await handle.terminate("test over")
    _check(engine, cid, paused, left_at, end)


def _check(engine: Engine, cid: int, paused: dict[str, Any], left_at: datetime | None, end: datetime) -> None:
    with session_scope(engine) as s:
        touches = s.exec(select(Touch).where(Touch.contact_id == cid).order_by(Touch.id)).all()
        rows = s.exec(select(DeferredDrop).where(DeferredDrop.contact_id == cid)).all()
    sent = [t for t in touches if t.status == TouchStatus.SENT and t.sent_at is not None]
    assert_sent_by_the_rules(sent, CAPS, TZ, COUNTRY, CLOSURES)
    for t in sent:
        assert t.sent_at is not None
        assert left_at is None or t.sent_at < left_at + SLACK, "a drop after the unsubscribe"
        for since, until in paused[t.journey]:
            silent_until = until or end
            assert not (since + SLACK <= t.sent_at < silent_until), f"{t.item_id} sent while {t.journey} was paused"
    expired = {r.item_id for r in rows if r.state == DeferredState.EXPIRED and r.reason.startswith("expired")}
    for key, persona in JOURNEYS.items():
        mine = [t.item_id for t in sent if t.journey == key]
        order = [i.id for i in REGISTRY[key].catalog.items if i.fits(persona)]
        if key == "b2b_drip":  # plain `drop()`s: each sent item is the next one, or its wait expired (with a reason)
            offered: list[str] = []
            for item in mine:
                nxt = REGISTRY[key].catalog.next_item(persona, "awareness", offered)
                while nxt is not None and nxt.id != item and nxt.id in expired:
                    offered.append(nxt.id)
                    nxt = REGISTRY[key].catalog.next_item(persona, "awareness", offered)
                assert nxt is not None and nxt.id == item, f"{key} did not continue where it was: {mine}"
                offered.append(item)
        spans = paused[key]
        still_paused = bool(spans) and spans[-1][1] is None
        resumed_at = spans[-1][1] if spans and not still_paused else None
        if left_at is None and not still_paused and resumed_at is not None and len(mine) < len(order):
            after = [t for t in sent if t.journey == key and t.sent_at and t.sent_at > resumed_at]
            assert after, f"{key} did not continue after its resume at {resumed_at}"
