"""Signal many workflows with bounded concurrency and an average rate, reporting a resumable prefix.

Signals complete out of order; progress is the longest prefix of the list whose signals have all finished,
so a caller that saves it (an activity heartbeat) and restarts from it never skips a workflow. Whatever
finished beyond the prefix is sent again after a restart: receivers must dedupe (journeys do).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

OK = "ok"
SKIP = "skip"
RETRYABLE = frozenset({RPCStatusCode.UNAVAILABLE, RPCStatusCode.RESOURCE_EXHAUSTED, RPCStatusCode.DEADLINE_EXCEEDED})
ATTEMPTS = 3


@dataclass
class FanoutProgress:
    done: int = 0  # workflows[:done] are all handled
    signalled: int = 0
    skipped: int = 0  # not signalled on purpose (`skip`)
    failed: int = 0
    failures: dict[str, int] = field(default_factory=dict)  # reason -> count, within the prefix


async def signal_one(client: Client, workflow_id: str, signal: str, arg: object) -> str:
    """`OK`, or why the signal did not land ("journey ended" when the workflow is no longer running)."""
    handle = client.get_workflow_handle(workflow_id)
    for attempt in range(ATTEMPTS):
        try:
            await handle.signal(signal, arg)
            return OK
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return "journey ended"
            if err.status not in RETRYABLE or attempt == ATTEMPTS - 1:
                return err.status.name.lower() if err.status is not None else "rpc error"
            await asyncio.sleep(0.2 * 2**attempt)
    raise AssertionError("unreachable")


class ReportWindow:
    """Backpressure: at most `size` signalled receivers may not have reported yet before we send another.

    A burst larger than the workers can absorb only queues up (and a long enough queue times out sticky
    workflow tasks, which costs replays); keeping the backlog bounded also keeps it short for the sender's
    own workflow tasks, so pause and cancel stay quick. `reported()` (blocking, run on a thread) counts the
    receivers that have reported; `sent` is how many had been signalled before this call.
    """

    def __init__(self, reported: Callable[[], int], sent: int, size: int, poll: float = 0.2) -> None:
        self._reported_fn = reported
        self._sent = sent
        self._size = size
        self._poll = poll
        self._reported = -1

    async def admit(self, launched: int, deadline: float) -> bool:
        """Wait until signal number `launched` (of this call) may go; False if `deadline` came first."""
        loop = asyncio.get_running_loop()
        while self._sent + launched - max(self._reported, 0) >= self._size:
            if self._reported >= 0 and loop.time() >= deadline:
                return False
            self._reported = await asyncio.to_thread(self._reported_fn)
            if self._sent + launched - self._reported < self._size:
                break
            await asyncio.sleep(self._poll)
        return True


async def signal_many(
    client: Client,
    workflow_ids: Sequence[str],
    signal: str,
    arg: object,
    *,
    rate_per_second: float,
    concurrency: int,
    max_seconds: float,
    skip: Collection[str] = (),
    window: ReportWindow | None = None,
    start: FanoutProgress | None = None,
    on_progress: Callable[[FanoutProgress], None] | None = None,
    progress_every: float = 0.5,
) -> FanoutProgress:
    """Signal `workflow_ids[start.done:]` until all are done or `max_seconds` pass (then stop starting new ones).

    At most `concurrency` signals are in flight; starts are paced to `rate_per_second` on average, and held
    back by `window` while too many receivers have not reported. Ids in `skip` are passed over (counted as
    skipped).
    """
    if rate_per_second <= 0 or concurrency <= 0:
        raise ValueError("rate and concurrency must be positive")
    progress = start or FanoutProgress()
    n = len(workflow_ids)
    outcome: list[str | None] = [None] * n
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    deadline, next_report = t0 + max_seconds, t0 + progress_every
    slots = asyncio.Semaphore(concurrency)
    tasks: set[asyncio.Task[None]] = set()

    def advance() -> None:
        while progress.done < n and outcome[progress.done] is not None:
            result = outcome[progress.done]
            if result == OK:
                progress.signalled += 1
            elif result == SKIP:
                progress.skipped += 1
            else:
                assert result is not None
                progress.failed += 1
                progress.failures[result] = progress.failures.get(result, 0) + 1
            progress.done += 1

    async def one(i: int) -> None:
        try:
            outcome[i] = await signal_one(client, workflow_ids[i], signal, arg)
        finally:
            slots.release()

    first, paced = progress.done, 0
    for i in range(first, n):
        if workflow_ids[i] in skip:
            outcome[i] = SKIP
            continue
        now = loop.time()
        if paced and now >= deadline:
            break
        if window is not None and not await window.admit(paced, deadline):
            break
        due = max(t0 + paced / rate_per_second, now)
        paced += 1
        if due > loop.time():
            await asyncio.sleep(due - loop.time())
        await slots.acquire()
        task = asyncio.create_task(one(i))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        if on_progress is not None and loop.time() >= next_report:
            advance()
            on_progress(progress)
            next_report = loop.time() + progress_every
    if tasks:
        await asyncio.gather(*tasks)
    advance()
    return progress
