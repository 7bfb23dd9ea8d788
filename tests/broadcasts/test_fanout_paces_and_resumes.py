"""Fan-out mechanics against a real server: a chunk stops at its deadline, resumes from its prefix without
counting anything twice, passes over skipped ids, and holds back while too many receivers have not reported.

Workflow ids that do not exist make every signal fail fast ("journey ended"), which is all these need."""

from __future__ import annotations

import uuid

from temporalio.testing import WorkflowEnvironment

from nurture import temporal_names
from nurture.broadcasts.fanout import FanoutProgress, ReportWindow, signal_many
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
    carried = ["journey/earlier/contact-1", "journey/earlier/contact-2"]  # an earlier chunk's, not reported yet
    heard: set[str] = set()
    asked: list[list[str]] = []

    def reported(among: list[str]) -> set[str]:
        asked.append(among)
        return heard & set(among)

    window = ReportWindow(reported, carried, size=5, poll=0.05)
    held = await signal_many(
        dev_server_env.client, ids, temporal_names.SIGNAL_BROADCAST, NOTICE,
        rate_per_second=1000, concurrency=8, max_seconds=0.5, window=window,
    )  # fmt: skip
    assert (held.done, held.signalled) == (3, 3)  # 2 carried + 3 = the window of 5; nobody reported
    assert window.unreported[:2] == carried  # oldest first; this chunk's land in any order
    assert set(window.unreported) == {*carried, *ids[:3]}  # what the next chunk carries
    assert asked and all(len(a) <= 5 for a in asked)  # it asks about the window's ids, never the whole broadcast

    heard.update([carried[0], ids[0], ids[2]])  # three reported: three more may go
    window = ReportWindow(reported, window.unreported, size=5, poll=0.05)
    more = await signal_many(
        dev_server_env.client, ids, temporal_names.SIGNAL_BROADCAST, NOTICE,
        rate_per_second=1000, concurrency=8, max_seconds=0.5, window=window, start=held,
    )  # fmt: skip
    assert more.done == 3 + 3
    assert window.unreported[:2] == [carried[1], ids[1]]
    assert set(window.unreported) == {carried[1], ids[1], *ids[3:6]}


async def test_failed_signals_and_stale_receivers_do_not_hold_the_window(dev_server_env: WorkflowEnvironment) -> None:
    gone = _ids(20)  # no such workflows: every signal fails, and a failed signal never reports
    window = ReportWindow(lambda _: set(), [], size=3, poll=0.05)
    failed = await signal_many(
        dev_server_env.client, gone, temporal_names.SIGNAL_BROADCAST, NOTICE,
        rate_per_second=1000, concurrency=2, max_seconds=5, window=window,
    )  # fmt: skip
    assert (failed.done, failed.failed, window.unreported) == (20, 20, [])

    ids = await _running(dev_server_env, 8)  # they never report; after stale_after they stop holding the window
    window = ReportWindow(lambda _: set(), [], size=3, poll=0.05, stale_after=0.3)
    went = await signal_many(
        dev_server_env.client, ids, temporal_names.SIGNAL_BROADCAST, NOTICE,
        rate_per_second=1000, concurrency=8, max_seconds=5, window=window,
    )  # fmt: skip
    assert (went.done, went.signalled) == (8, 8)
    assert window.stale >= 3 and len(window.unreported) <= 3
