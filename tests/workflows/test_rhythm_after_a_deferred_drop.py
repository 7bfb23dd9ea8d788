"""A deferred scheduled drop and the journey's rhythm (`@journey(rhythm=...)`), in simulated time: KEEP leaves
the next drops on their original schedule, SHIFT moves the schedule by the deferral (b2b_drip, a drop every two
weeks, its second drop held back a week by the claim)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment

from nurture import temporal_names
from tests.workflows.fakes import Recorder
from tests.workflows.scenario import running_worker, start_journey
from workflows.dsl import REGISTRY, Rhythm
from workflows.payloads import EngagementEvent, ExitRequest

B2B = {"persona": "finance-lead", "time_zone": "Europe/Berlin", "topics": ["compliance"]}
WEEK = timedelta(weeks=1)


@pytest.fixture
def shifting_b2b() -> Iterator[str]:
    """b2b_drip as it would be declared with `rhythm=Rhythm.SHIFT` (same storyboard and catalog)."""
    key = "b2b_drip_shift"
    REGISTRY[key] = dataclasses.replace(REGISTRY["b2b_drip"], key=key, rhythm=Rhythm.SHIFT)
    yield key
    del REGISTRY[key]


async def _three_drops(env: WorkflowEnvironment, task_queue: str, engine: Engine, journey: str, cid: int,
                       *, click: bool) -> list[datetime]:  # fmt: skip
    rec = Recorder(min_gap=False)
    async with running_worker(env, task_queue, engine, rec):
        handle = await start_journey(env, task_queue, journey, cid, **B2B)
        await env.sleep(timedelta(days=8))  # first drop: inside the first weekday window
        assert len(rec.sent(cid)) == 1
        rec.defer_next = WEEK
        await env.sleep(2 * WEEK + timedelta(days=1))  # the second drop is due at first + 2w, sent a week late
        if click:  # an early answer ends its wait: the storyboard then sleeps until sent_at + two weeks
            sent = rec.sent(cid)
            assert len(sent) == 2
            await handle.signal(
                temporal_names.SIGNAL_ENGAGEMENT, EngagementEvent(f"ck-{cid}", "clicked", sent[1].now, sent[1].item_id)
            )
        await env.sleep(4 * WEEK)
        await handle.signal(temporal_names.SIGNAL_EXIT, ExitRequest(reason="manual"))
        await handle.result()
    return [s.now for s in rec.sent(cid)][:3]


def about(span: timedelta, expected: timedelta) -> bool:
    # the shared time-skipping clock may stand anywhere in the year: a daylight-saving change moves the window's
    # opening by an hour in UTC (the rhythms compared here differ by a week)
    return abs(span - expected) <= timedelta(hours=1, minutes=1)


@pytest.mark.parametrize("click", [False, True], ids=["no-answer", "early-click"])
async def test_keep_rhythm_leaves_the_next_drop_on_its_original_schedule(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine, click: bool
) -> None:
    assert REGISTRY["b2b_drip"].rhythm is Rhythm.KEEP  # the default, and b2b_drip's choice
    first, second, third = await _three_drops(time_skipping_env, task_queue, sqlite_engine, "b2b_drip", 631,
                                              click=click)  # fmt: skip
    assert about(second - first, 3 * WEEK), "held back a week"
    assert about(third - first, 4 * WEEK), "the schedule kept: the third drop is where it always was"


@pytest.mark.parametrize("click", [False, True], ids=["no-answer", "early-click"])
async def test_shift_moves_the_schedule_by_the_deferral(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine, shifting_b2b: str, click: bool
) -> None:
    first, second, third = await _three_drops(time_skipping_env, task_queue, sqlite_engine, shifting_b2b, 632,
                                              click=click)  # fmt: skip
    assert about(second - first, 3 * WEEK), "held back a week"
    assert about(third - second, 2 * WEEK), "the whole schedule moved by the week"
