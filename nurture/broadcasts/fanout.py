"""Signal many workflows with bounded concurrency and an average rate, reporting a resumable prefix.

Signals complete out of order; progress is the longest prefix of the list whose signals have all finished,
so a caller that saves it (an activity heartbeat) and restarts from it never skips a workflow. Whatever
finished beyond the prefix is sent again after a restart: receivers must dedupe (journeys do).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from nurture.broadcasts.options import MAX_UNREPORTED
from nurture.clock import utcnow

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
    """Backpressure: at most `size` receivers may be signalled and not yet reported before we send another.

    A burst larger than the workers can absorb only queues up (and a long enough queue times out sticky
    workflow tasks, which costs replays); keeping the backlog bounded also keeps it short for the sender's
    own workflow tasks, so pause and cancel stay quick.

    The window holds the ids themselves: `unreported` (carried from the broadcast's earlier chunks) plus every
    signal of this call that landed, until `reported(ids)` (blocking, run on a thread) says they reported. It
    only ever asks about those ids (at most `size` of them), so a poll costs the same in the broadcast's
    first second and in its ten-millionth journey; counting every report of the broadcast on each poll did
    not. A signal that failed never reports and never holds the window. Nor does a receiver that has not
    reported `stale_after` seconds after its signal landed (paused, busy, or ended since): it is dropped from
    the window (the settle phase still waits for it), so a few stuck journeys cannot stall the broadcast.
    """

    def __init__(
        self,
        reported: Callable[[list[str]], Collection[str]],
        unreported: Mapping[str, float],
        size: int,
        poll: float = 0.2,
        stale_after: float = 120.0,
    ) -> None:
        self._reported = reported
        # at most MAX_UNREPORTED ids, whoever asked: `DeliveryOptions` refuses more, and this holds for a broadcast
        # workflow started by hand too (the ids ride in every chunk's result and heartbeat, inside payload limits)
        self._size = min(size, MAX_UNREPORTED)
        self._poll = poll
        self._stale_after = stale_after
        # id -> when its signal landed (wall clock, epoch seconds: the times travel with the ids to the next chunk,
        # which may run in another process, so a journey's age keeps counting across chunks)
        self._pending: dict[str, float] = dict(unreported)
        self._in_flight = 0
        self.stale = 0  # receivers dropped from the window unreported

    @property
    def unreported(self) -> dict[str, float]:
        """The receivers still held in the window, oldest first, with when their signal landed: the next chunk
        carries them."""
        return dict(self._pending)

    def launched(self) -> None:
        self._in_flight += 1

    def landed(self, workflow_id: str, ok: bool) -> None:
        self._in_flight -= 1
        if ok:
            self._pending.setdefault(workflow_id, utcnow().timestamp())

    def _full(self) -> bool:
        return len(self._pending) + self._in_flight >= self._size

    async def admit(self, deadline: float, waiting: Callable[[], None] = lambda: None) -> bool:
        """Wait until one more signal may go; False if `deadline` (loop time) came first. `waiting` is called on
        every poll while it waits (the caller's heartbeat: a wait may outlast the activity's heartbeat timeout)."""
        loop = asyncio.get_running_loop()
        polled = False
        while self._full():
            if polled and loop.time() >= deadline:
                return False
            if self._pending:
                heard = await asyncio.to_thread(self._reported, list(self._pending))
                for workflow_id in heard:
                    self._pending.pop(workflow_id, None)
                self._drop_stale()
            polled = True
            if not self._full():
                break
            waiting()
            await asyncio.sleep(self._poll)
        return True

    def _drop_stale(self) -> None:
        old = utcnow().timestamp() - self._stale_after
        for workflow_id in [w for w, landed in self._pending.items() if landed < old]:
            del self._pending[workflow_id]
            self.stale += 1


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

    def report() -> None:  # the resumable prefix to `on_progress`, at most every `progress_every`
        nonlocal next_report
        if on_progress is not None and loop.time() >= next_report:
            advance()
            on_progress(progress)
            next_report = loop.time() + progress_every

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
            if window is not None:
                window.landed(workflow_ids[i], outcome[i] == OK)

    first, paced = progress.done, 0
    for i in range(first, n):
        if workflow_ids[i] in skip:
            outcome[i] = SKIP
            continue
        now = loop.time()
        if paced and now >= deadline:
            break
        if window is not None and not await window.admit(deadline, report):
            break
        due = max(t0 + paced / rate_per_second, now)
        paced += 1
        if due > loop.time():
            await asyncio.sleep(due - loop.time())
        await slots.acquire()
        if window is not None:
            window.launched()
        task = asyncio.create_task(one(i))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        report()
    if tasks:
        await asyncio.gather(*tasks)
    advance()
    return progress
