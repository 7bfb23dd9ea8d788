"""The worker process's C allocator: fewer glibc malloc arenas, and freed memory handed back to the kernel.

Why (bench/worker_memory.py): a worker's memory is mostly C heap, not Python objects. The Temporal SDK's core
(Rust, on glibc malloc) and the activity threads (SQLAlchemy, rendering) allocate from per-thread malloc arenas
(up to 8 per core by default). A journey evicted from the workflow cache frees its state, but glibc keeps the
freed pages inside whichever arena they came from, so RSS kept growing past the cache bound as journeys came and
went, and a cached journey looked dearer than what it holds.

- `limit_arenas` caps the arenas (`mallopt(M_ARENA_MAX)`). It applies to arenas created after the call, so the
  worker calls it first thing, before the Temporal runtime's and the activity pool's threads exist.
- `trim_forever` calls `malloc_trim(0)` every so often: glibc releases the free pages of every arena (not only
  the top of the main heap) with `madvise`, so what evicted journeys freed stops counting as RSS.

Both are no-ops where the C library is not glibc (musl, macOS): `available()` says which.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import functools

from nurture.logging import get_logger

log = get_logger(__name__)

M_ARENA_MAX = -8  # glibc malloc.h


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt.argtypes, libc.mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
        libc.malloc_trim.argtypes, libc.malloc_trim.restype = [ctypes.c_size_t], ctypes.c_int
    except (OSError, AttributeError):
        return None
    return libc


def available() -> bool:
    """Whether this process's C library has glibc's `mallopt` and `malloc_trim`."""
    return _libc() is not None


def limit_arenas(arenas: int) -> bool:
    """Cap glibc's malloc arenas for threads started from now on (0: leave glibc's default). True if applied."""
    libc = _libc()
    if arenas <= 0 or libc is None:
        return False
    return bool(libc.mallopt(M_ARENA_MAX, arenas))


def trim() -> bool:
    """Give the free pages of every malloc arena back to the kernel. True if any memory was released."""
    libc = _libc()
    return libc is not None and bool(libc.malloc_trim(0))


async def trim_forever(every_seconds: float) -> None:
    """`trim` every `every_seconds` (off the event loop: it walks every arena's free lists) until cancelled."""
    if every_seconds <= 0 or not available():
        return
    while True:
        await asyncio.sleep(every_seconds)
        await asyncio.to_thread(trim)
