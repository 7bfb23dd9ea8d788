"""What the primitives answer is typed and says what happened: a drop is sent, already sent, deferred, refused or
exhausted; a handoff is accepted, rejected (with the reason) or unanswered, and the storyboard decides what next.

Each storyboard here records what it was told; the fake activities play the provider and the CRM.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment

from nurture import temporal_names
from tests.workflows.fakes import Recorder
from tests.workflows.scenario import running_worker, start_journey
from workflows import dsl
from workflows.dsl import DropOutcome, Verdict
from workflows.payloads import SalesFeedback

CATALOG = dsl.Catalog(
    tuple(dsl.ContentItem(id=f"typed-{n}", subject=f"Item {n}", body="Hi $first_name.") for n in ("a", "b", "c"))
)
TOLD: list[object] = []


async def drops(j: dsl.Journey) -> None:
    first = await j.drop()  # typed-a
    TOLD.append(first)
    TOLD.append(await j.drop(item="typed-a"))  # this journey sent it already
    held = await j.drop(wait_out_gap=False)  # typed-b, inside the minimum gap: held back, not waited out
    TOLD.append(held)
    await j.sleep_until(held.until or j.now, "the gap is over")
    TOLD.append(j.now)
    TOLD.append(await j.drop())  # typed-b: the provider refuses it
    TOLD.append(await j.drop())  # typed-c: the contact has it from another journey
    TOLD.append(await j.drop())  # nothing left


async def answers(j: dsl.Journey) -> None:
    while True:
        answer = await j.hand_off("probe")
        TOLD.append(answer)
        if answer.accepted:
            return  # the storyboard's choice: a customer now, so the journey ends
        await j.sleep(timedelta(days=1), "the storyboard's choice: try again tomorrow, no cool-down")


def _register(monkeypatch: pytest.MonkeyPatch, key: str, storyboard: dsl.Storyboard) -> None:
    TOLD.clear()
    spec = dsl.JourneySpec(key=key, storyboard=storyboard, catalog=CATALOG, threshold=10, send_window=None)
    monkeypatch.setitem(dsl.REGISTRY, key, spec)
    monkeypatch.setitem(dsl.CATALOGS, key, CATALOG)


async def test_a_drop_says_sent_already_sent_deferred_refused_or_exhausted(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _register(monkeypatch, "typed_drops", drops)
    env, rec = time_skipping_env, Recorder(refused={"typed-b"}, duplicates={"typed-c"})
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handle = await start_journey(env, task_queue, "typed_drops", 901)
        result = await handle.result()
    sent, again, held, woke, refused, duplicate, exhausted = TOLD
    assert isinstance(sent, dsl.DropResult) and sent.outcome is DropOutcome.SENT and sent.item_id == "typed-a"
    assert isinstance(again, dsl.DropResult) and again.outcome is DropOutcome.ALREADY_SENT
    assert isinstance(held, dsl.DropResult) and held.outcome is DropOutcome.DEFERRED and held.item_id == "typed-b"
    assert isinstance(woke, datetime) and held.until is not None
    assert held.until <= woke < held.until + timedelta(minutes=1), "sleep_until wakes at the time asked for"
    assert isinstance(refused, dsl.DropResult) and refused.outcome is DropOutcome.REFUSED
    assert isinstance(duplicate, dsl.DropResult) and duplicate.outcome is DropOutcome.ALREADY_SENT
    assert isinstance(exhausted, dsl.DropResult) and exhausted.exhausted and not exhausted.sent
    assert [s.item_id for s in rec.sent(901)] == ["typed-a"]
    assert result.outcome == "completed"


async def test_a_handoff_says_rejected_with_reason_no_answer_or_accepted_and_the_storyboard_decides(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _register(monkeypatch, "typed_answers", answers)
    env, rec = time_skipping_env, Recorder()
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handle = await start_journey(env, task_queue, "typed_answers", 902)
        await asyncio.wait_for(rec.handoff_started.wait(), timeout=30)
        await env.sleep(timedelta(hours=1))
        await handle.signal(temporal_names.SIGNAL_SALES_FEEDBACK, SalesFeedback(False, "budget frozen"))
        await env.sleep(timedelta(days=17))  # the second handoff goes unanswered for the 14-day timeout
        assert len(rec.handoffs) == 3
        await handle.signal(temporal_names.SIGNAL_SALES_FEEDBACK, SalesFeedback(True, "demo booked"))
        result = await handle.result()
    rejected, unanswered, accepted = TOLD
    assert rejected == dsl.SalesAnswer(Verdict.REJECTED, "budget frozen")
    assert isinstance(unanswered, dsl.SalesAnswer) and unanswered.unanswered
    assert "no feedback from sales" in unanswered.reason
    assert accepted == dsl.SalesAnswer(Verdict.ACCEPTED, "demo booked")
    assert result.outcome == "customer", "a storyboard that returns after an accepted handoff ends as a customer"


def test_matchers_are_constants_that_narrow_when_called_and_events_say_what_they_were() -> None:
    matchers = [
        getattr(dsl, name) for name in dsl.__all__ if name.isupper() and isinstance(getattr(dsl, name), dsl.Matcher)
    ]
    assert {str(m) for m in matchers} >= {"clicked", "opened", "page_view", "broadcast(product_launch)"}
    pricing = dsl.PAGE_VIEW("/pricing*")
    heard = dsl.Happened("page_view", datetime(2026, 3, 2, tzinfo=UTC), url="https://x.example/pricing/teams")
    assert heard.matches(pricing) and heard.matches(dsl.EMAIL_CLICKED, pricing)
    assert not heard.matches(dsl.PAGE_VIEW("/blog*")) and not heard.matches(dsl.EMAIL_CLICKED)
    launch = dsl.Happened("broadcast", heard.at, topic="mowers", broadcast_kind="product_launch")
    assert launch.matches(dsl.PRODUCT_LAUNCHED(topic="mowers")) and not launch.matches(dsl.PRODUCT_LAUNCHED(topic="x"))
    assert not launch.matches(dsl.REGULATION_CHANGED)
    with pytest.raises(TypeError, match="topic="):
        dsl.PRODUCT_LAUNCHED("/launches/*")
