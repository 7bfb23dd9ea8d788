"""`nurture.waiting.woken`: the background loops' wait. A cancel must always get through, even one that lands as
the wake-up does (3.11's `asyncio.wait_for` returned the wait's result and lost it: a loop kept running and the
shutdown that awaited it hung)."""

from __future__ import annotations

import asyncio

import pytest

from nurture.waiting import woken


async def test_a_wake_up_or_the_deadline_ends_the_wait() -> None:
    event = asyncio.Event()
    assert await woken(event, 0.01) is False
    event.set()
    assert await woken(event, 5) is True


async def _loop(event: asyncio.Event) -> None:
    while True:  # a background loop: wait for a wake-up, do a round, wait again
        await woken(event, 10)
        event.clear()


async def test_a_cancel_that_lands_with_the_wake_up_still_cancels() -> None:
    for _ in range(20):
        event = asyncio.Event()
        task = asyncio.create_task(_loop(event))
        await asyncio.sleep(0)  # the loop is waiting
        event.set()
        task.cancel()  # in the same step as the wake-up
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 2)
        assert task.cancelled()
