"""Fan-out mechanics against a real server: a chunk stops at its deadline, resumes from its prefix without
counting anything twice, passes over skipped ids, and holds back while too many receivers have not reported.

Workflow ids that do not exist make every signal fail fast ("journey ended"), which is all these need."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import asdict, replace

import pytest
from sqlalchemy.engine import Engine
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.broadcast import BroadcastActivities
from nurture import temporal_names
from nurture.broadcasts.fanout import FanoutProgress, ReportWindow, signal_many
from nurture.broadcasts.options import MAX_UNREPORTED, DeliveryOptions
from nurture.clock import utcnow
from workflows.broadcast_payloads import SignalJourneysInput
from workflows.payloads import BroadcastNotice

NOTICE = BroadcastNotice("fanout-test", "announcement", "bc-hosepipe-ban")


def _ids(n: int) -> list[str]:
    run = uuid.uuid4().hex[:8]
    return [f"journey/nobody-{run}/contact-{i}" for i in range(n)]


async def test_a_chunk_stops_at_its_deadline_and_the_next_resumes_from_its_prefix(
    dev_server_env: WorkflowEnvironment,
) -> None:
    ids = _ids(40)
    reports: list[FanoutProgress] = []
    first = await signal_many(
        dev_server_env.client, ids, temporal_names.SIGNAL_BROADCAST, NOTICE,
        rate_per_second=20, concurrency=4, max_seconds=0.5, on_progress=reports.append, progress_every=0.1,
    )  # fmt: skip
    assert 5 <= first.done < 40  # paced: about 10 in half a second
    assert (first.signalled, first.failed, first.failures) == (0, first.done, {"journey ended": first.done})
    assert reports
    assert all(r.done <= first.done for r in reports)

    resumed = FanoutProgress(**{**first.__dict__, "failures": dict(first.failures)})
    rest = await signal_many(
        dev_server_env.client, ids, temporal_names.SIGNAL_BROADCAST, NOTICE,
        rate_per_second=1000, concurrency=8, max_seconds=30, start=resumed,
    )  # fmt: skip
    assert (rest.done, rest.failed, rest.failures) == (40, 40, {"journey ended": 40})


async def test_skipped_ids_are_passed_over_and_counted(dev_server_env: WorkflowEnvironment) -> None:
    ids = _ids(12)
    done = await signal_many(
        dev_server_env.client, ids, temporal_names.SIGNAL_BROADCAST, NOTICE,
        rate_per_second=1000, concurrency=8, max_seconds=30, skip=set(ids[::3]),
    )  # fmt: skip
    assert (done.done, done.skipped, done.failed) == (12, 4, 8)


async def _running(env: WorkflowEnvironment, n: int) -> list[str]:
    """n workflows that are running (no worker picks them up: a signal to them lands all the same)."""
    run = uuid.uuid4().hex[:8]
    ids = [f"fanout-sink-{run}-{i}" for i in range(n)]
    for workflow_id in ids:
        await env.client.start_workflow("fanout-test-sink", id=workflow_id, task_queue=f"nobody-{uuid.uuid4().hex}")
    return ids


async def test_the_report_window_holds_signals_back_until_receivers_report(dev_server_env: WorkflowEnvironment) -> None:
    ids = await _running(dev_server_env, 30)
    now = utcnow().timestamp()
    carried = {"journey/earlier/contact-1": now - 3, "journey/earlier/contact-2": now - 2}  # an earlier chunk's
    heard: set[str] = set()
    asked: list[list[str]] = []

    def reported(among: list[str]) -> set[str]:
        asked.append(among)
        return heard & set(among)

    window = ReportWindow(reported, carried, size=5, poll=0.05)
    beats: list[FanoutProgress] = []
    held = await signal_many(
        dev_server_env.client, ids, temporal_names.SIGNAL_BROADCAST, NOTICE,
        rate_per_second=1000, concurrency=8, max_seconds=0.5, window=window,
        on_progress=beats.append, progress_every=0.05,
    )  # fmt: skip
    assert (held.done, held.signalled) == (3, 3)  # 2 carried + 3 = the window of 5; nobody reported
    assert len(beats) >= 4  # it kept heartbeating while it waited (the activity's heartbeat timeout is 5 s)
    first = window.unreported
    assert list(first)[:2] == list(carried)  # oldest first; this chunk's land in any order
    assert set(first) == {*carried, *ids[:3]}  # what the next chunk carries, with when each landed
    assert {w: first[w] for w in carried} == carried and all(first[w] >= now for w in ids[:3])
    assert asked and all(len(a) <= 5 for a in asked)  # it asks about the window's ids, never the whole broadcast

    heard.update(["journey/earlier/contact-1", ids[0], ids[2]])  # three reported: three more may go
    window = ReportWindow(reported, first, size=5, poll=0.05)
    more = await signal_many(
        dev_server_env.client, ids, temporal_names.SIGNAL_BROADCAST, NOTICE,
        rate_per_second=1000, concurrency=8, max_seconds=0.5, window=window, start=held,
    )  # fmt: skip
    assert more.done == 3 + 3
    assert list(window.unreported)[:2] == ["journey/earlier/contact-2", ids[1]]
    assert set(window.unreported) == {"journey/earlier/contact-2", ids[1], *ids[3:6]}


async def test_failed_signals_and_stale_receivers_do_not_hold_the_window(dev_server_env: WorkflowEnvironment) -> None:
    gone = _ids(20)  # no such workflows: every signal fails, and a failed signal never reports
    window = ReportWindow(lambda _: set(), {}, size=3, poll=0.05)
    failed = await signal_many(
        dev_server_env.client, gone, temporal_names.SIGNAL_BROADCAST, NOTICE,
        rate_per_second=1000, concurrency=2, max_seconds=5, window=window,
    )  # fmt: skip
    assert (failed.done, failed.failed, window.unreported) == (20, 20, {})

    ids = await _running(dev_server_env, 8)  # they never report; after stale_after they stop holding the window
    window = ReportWindow(lambda _: set(), {}, size=3, poll=0.05, stale_after=0.3)
    went = await signal_many(
        dev_server_env.client, ids, temporal_names.SIGNAL_BROADCAST, NOTICE,
        rate_per_second=1000, concurrency=8, max_seconds=5, window=window,
    )  # fmt: skip
    assert (went.done, went.signalled) == (8, 8)
    assert window.stale >= 3 and len(window.unreported) <= 3


async def test_a_journey_stuck_across_chunks_ages_out_of_the_window(dev_server_env: WorkflowEnvironment) -> None:
    """The window's ages travel with its ids: chunks of 0.3 s each, a window full of journeys that never report,
    and they still age out after stale_after (1 s) instead of holding every later chunk at its deadline."""
    ids = await _running(dev_server_env, 12)
    carried: dict[str, float] = {}
    progress = None
    for _ in range(20):
        window = ReportWindow(lambda _: set(), carried, size=3, poll=0.05, stale_after=1.0)
        progress = await signal_many(
            dev_server_env.client, ids, temporal_names.SIGNAL_BROADCAST, NOTICE,
            rate_per_second=1000, concurrency=4, max_seconds=0.3, window=window, start=progress,
        )  # fmt: skip
        carried = window.unreported
        if progress.done == len(ids):
            break
    assert progress is not None and progress.done == len(ids)  # 12 sent, 3 at a time, each batch aged out


def test_a_window_too_large_for_its_payloads_is_refused() -> None:
    assert DeliveryOptions(max_unreported=MAX_UNREPORTED).max_unreported == MAX_UNREPORTED
    with pytest.raises(ValueError, match="max_unreported"):
        DeliveryOptions(max_unreported=MAX_UNREPORTED + 1)  # its ids would outgrow a chunk's payloads
    with pytest.raises(ValueError, match="max_unreported"):
        DeliveryOptions(max_unreported=-1)


async def test_a_window_asked_for_past_the_bound_holds_no_more_than_the_bound() -> None:
    """A broadcast workflow started by hand (not through `DeliveryOptions`) may ask for any window: the window
    still holds back at MAX_UNREPORTED, so its ids cannot outgrow the chunk's payloads."""
    held = {f"journey/x/contact-{i}": utcnow().timestamp() for i in range(MAX_UNREPORTED)}
    window = ReportWindow(lambda ids: [], held, size=MAX_UNREPORTED * 100, poll=0.01)
    loop = asyncio.get_running_loop()
    assert not await window.admit(deadline=loop.time() + 0.05)  # full at the bound: nobody reported
    assert len(window.unreported) == MAX_UNREPORTED


async def test_a_resumed_chunk_starts_from_the_window_its_last_heartbeat_saved(
    dev_server_env: WorkflowEnvironment, engine: Engine
) -> None:
    """A retried chunk resumes at its heartbeat: the prefix it had done and the window it held then (not the
    window the workflow passed in before the first attempt)."""
    ids = await _running(dev_server_env, 6)
    saved = {"journey/earlier/contact-9": utcnow().timestamp()}  # held when the last attempt heartbeated
    env = ActivityEnvironment()
    env.info = replace(env.info, heartbeat_details=[asdict(FanoutProgress(done=1, signalled=1)), saved])
    beats: list[tuple[object, ...]] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    acts = BroadcastActivities(engine, dev_server_env.client)
    inp = SignalJourneysInput(
        notice=NOTICE, workflow_ids=ids, rate_per_second=1000, concurrency=4, max_seconds=1.5, max_unreported=3,
        unreported={},  # what the workflow passed before the first attempt: superseded by the heartbeat
    )  # fmt: skip
    result = await env.run(acts.signal_journeys, inp)
    assert (result.done, result.signalled) == (3, 3)  # resumed at 1, then 2 more fill the window of 3
    assert list(result.unreported)[0] == "journey/earlier/contact-9"
    assert set(result.unreported) == {"journey/earlier/contact-9", ids[1], ids[2]}
    assert beats and all(set(b[1]) <= set(result.unreported) for b in beats)  # each heartbeat saves the window
