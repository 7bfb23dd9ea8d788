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


async def test_the_report_window_holds_signals_back_until_receivers_report(dev_server_env: WorkflowEnvironment) -> None:
    ids = _ids(30)
    reported = [0]
    window = ReportWindow(lambda: reported[0], sent=2, size=5, poll=0.05)
    held = await signal_many(
        dev_server_env.client, ids, temporal_names.SIGNAL_BROADCAST, NOTICE,
        rate_per_second=1000, concurrency=8, max_seconds=0.5, window=window,
    )  # fmt: skip
    assert held.done == 3  # 2 sent before + 3 = the window of 5; nobody reported

    reported[0] = 20
    window = ReportWindow(lambda: reported[0], sent=5, size=5, poll=0.05)
    more = await signal_many(
        dev_server_env.client, ids, temporal_names.SIGNAL_BROADCAST, NOTICE,
        rate_per_second=1000, concurrency=8, max_seconds=0.5, window=window, start=held,
    )  # fmt: skip
    assert more.done == 3 + 20  # 20 reported: 20 more may go
