"""Status reads of a broadcast's reports, paced by what they cost.

Counting what journeys reported reads every row of the broadcast (~0.2 s at 1M rows, seconds at 10M), and a
status is asked for often: `nurture broadcast status --follow` every 0.5 s, each open console page every second.
So an API process keeps each count for ten times as long as it took: a small broadcast's count (milliseconds) is
fresh on every request, a large one's is at most a tenth of a database core however many people watch. The
running broadcast paces its own count the same way (`BroadcastWorkflow._record`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy.engine import Engine

from workflows.broadcast_payloads import COUNT_PACE

T = TypeVar("T")
MAX_KEPT = 1000  # entries kept per process before the expired ones are dropped

_kept: dict[tuple[int, Hashable], tuple[Any, float]] = {}  # (engine, key) -> (value, monotonic expiry)
_lock = threading.Lock()


async def kept(engine: Engine, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
    """`compute()`'s value, reused until COUNT_PACE times its cost has passed."""
    slot = (id(engine), key)
    with _lock:
        found = _kept.get(slot)
    if found is not None and found[1] > time.monotonic():
        value: T = found[0]
        return value
    started = time.monotonic()
    fresh = await compute()
    now = time.monotonic()
    with _lock:
        _kept[slot] = (fresh, now + COUNT_PACE * (now - started))
        if len(_kept) > MAX_KEPT:
            for stale in [k for k, (_, until) in _kept.items() if until <= now]:
                del _kept[stale]
    return fresh
