"""Waiting for a wake-up with a deadline, in the background loops (relay, mailer, console, signups).

`asyncio.wait_for(event.wait(), seconds)` on Python 3.11 can swallow a cancel that lands as the event is set (the
wait's result is returned and the cancel is lost; 3.12 rebuilt `wait_for` on `asyncio.timeout`), and a loop that
lost its cancel keeps running, so a shutdown that awaits it hangs. `asyncio.timeout` always lets the cancel through.
"""

from __future__ import annotations

import asyncio


async def woken(event: asyncio.Event, seconds: float) -> bool:
    """Wait for `event` at most `seconds`: True if it was set, False if the time ran out."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True
