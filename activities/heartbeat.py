"""Heartbeats for blocking activities: a dead worker is noticed in seconds, not at the start-to-close timeout.

A sync activity that waits on the provider (or on a contact's row lock) cannot heartbeat from its own thread,
so `beating()` runs a helper thread that heartbeats every `every` seconds while the block runs. Temporal then
retries the activity `heartbeat_timeout` after a worker dies mid-call. The retry is safe by the drop's claim
rules (`activities.drop`): a claim of unknown outcome waits for the provider's evidence before any resend.

Local activities (a broadcast's drop) have no heartbeat: there it is a no-op, as outside an activity (tests).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from temporalio import activity

from nurture.logging import get_logger

log = get_logger(__name__)


@contextmanager
def beating(every: timedelta = timedelta(seconds=1)) -> Iterator[None]:
    """Heartbeat the current activity from a helper thread until the block ends."""
    if not activity.in_activity():
        yield
        return
    info = activity.info()
    if info.is_local or info.heartbeat_timeout is None:
        yield
        return
    interval = min(every, info.heartbeat_timeout / 3).total_seconds()
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(interval):
            try:
                activity.heartbeat()
            except Exception as err:  # the worker is shutting down: the activity's own outcome decides
                log.debug("activity.heartbeat_failed", error=str(err)[:200])
                return

    activity.heartbeat()
    # the helper runs in a copy of this thread's context, where `activity.heartbeat` finds the activity
    helper = threading.Thread(target=contextvars.copy_context().run, args=(beat,), name="heartbeat", daemon=True)
    helper.start()
    try:
        yield
    finally:
        stop.set()
        helper.join()
