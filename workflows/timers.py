"""Durable waiting: one timer per nap, kept across wake-ups that do not move its deadline.

A nap ends at its deadline, or earlier on an exit signal, a broadcast, a continue-as-new suggestion, or whatever
the caller's `woken()` says (a new event for a wait). A wake-up that leaves the deadline where it was (a broadcast,
an event the wait does not match) keeps the running timer, so it costs no timer cancel and restart.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.payloads import JournalEntry, JourneyCarry, JourneyInput
    from workflows.rollover import continue_as_new_if_due, should_continue_as_new
    from workflows.visibility import Visibility

# Called on every wake-up before the deadline is checked: ends the journey on exit, acts on broadcasts.
Tend = Callable[[JournalEntry], Awaitable[None]]


class Timers:
    def __init__(self, inp: JourneyInput, carry: JourneyCarry, shown: Visibility, tend: Tend) -> None:
        self._inp = inp
        self._carry = carry
        self._shown = shown
        self._tend = tend
        self._timer: tuple[datetime, asyncio.Task[None]] | None = None

    def scaled(self, duration: timedelta) -> timedelta:
        """A journey-clock duration in workflow time (the demo compresses time by `time_scale`)."""
        return duration / self._inp.time_scale

    async def sleep_until(self, entry: JournalEntry, label: str) -> None:
        """Nap until `entry.wake_at`, tending to exits and broadcasts on every wake-up."""
        while True:
            await self._tend(entry)
            assert entry.wake_at is not None
            if workflow.now() >= entry.wake_at:
                return
            await self.nap(entry.wake_at, label, lambda: False)

    async def nap(self, until: datetime, label: str, woken: Callable[[], bool]) -> None:
        """Wait until `until`, an exit, a broadcast, `woken()` or a continue-as-new suggestion."""
        carry = self._carry
        self._shown.step, self._shown.next_wake_at = label, until
        self._shown.publish(flush=True)
        deadline = min([until, *(d.due for d in carry.deferred_broadcasts)])
        timeout = deadline - workflow.now()
        if timeout > timedelta(0):
            timer = self._timer_for(deadline, timeout, label)
            await workflow.wait_condition(
                lambda: (
                    timer.done()
                    or woken()
                    or carry.exit_reason is not None
                    or bool(carry.pending_broadcasts)
                    or should_continue_as_new(self._inp)
                )
            )
        await continue_as_new_if_due(self._inp, carry)

    def end_nap(self) -> None:
        """The step no longer waits: stop its timer if still pending (it would wake the journey for nothing)."""
        if self._timer is not None:
            self._timer[1].cancel()
            self._timer = None

    def _timer_for(self, deadline: datetime, timeout: timedelta, label: str) -> asyncio.Task[None]:
        """The running timer if it ends at `deadline`; otherwise cancel it and start one that does."""
        if self._timer is not None:
            at, task = self._timer
            if at == deadline and not task.done():
                return task
            task.cancel()
        task = asyncio.ensure_future(workflow.sleep(timeout, summary=label[:100]))
        self._timer = (deadline, task)
        return task
