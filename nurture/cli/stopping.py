"""Stopping a long-running command cleanly on Ctrl-C (SIGINT) or SIGTERM.

The first signal asks the command to stop: it shuts its parts down in order, each within a bound, and leaves no
process behind. A second signal stops at once (after the `on_force` cleanup, e.g. killing the dev server).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable, Generator

import uvicorn

from nurture.logging import get_logger

log = get_logger(__name__)
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """SIGINT/SIGTERM set `requested`; the exit code is 128 + the first signal's number."""

    def __init__(self, on_force: Callable[[], None] = lambda: None) -> None:
        self.requested = asyncio.Event()
        self.signum: int | None = None
        self._on_force = on_force

    @property
    def exit_code(self) -> int:
        return 0 if self.signum is None else 128 + self.signum

    def _received(self, signum: int) -> None:
        if self.signum is not None:
            log.warning("shutdown.forced", signal=signal.Signals(signum).name)
            self._on_force()
            os._exit(128 + signum)
        self.signum = signum
        log.info("shutdown.requested", signal=signal.Signals(signum).name)
        self.requested.set()

    @contextlib.contextmanager
    def installed(self) -> Generator[StopSignals, None, None]:
        loop = asyncio.get_running_loop()
        for sig in SIGNALS:
            loop.add_signal_handler(sig, self._received, int(sig))
        try:
            yield self
        finally:
            for sig in SIGNALS:
                loop.remove_signal_handler(sig)


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signals to its host command. uvicorn's own handlers re-raise the signal once it
    has stopped, which kills the process (SIGTERM) or throws KeyboardInterrupt into whatever task runs (SIGINT)
    before the worker and the dev server are shut down."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


async def bounded(what: str, awaitable: asyncio.Future[object] | asyncio.Task[object], seconds: float) -> None:
    """Wait for a part to stop, at most `seconds` (then leave it: the process is about to exit)."""
    try:
        await asyncio.wait_for(asyncio.shield(awaitable), seconds)
    except TimeoutError:
        log.warning("shutdown.timed_out", part=what, seconds=seconds)
    except Exception as err:  # a part failing while it stops must not keep the others running
        log.warning("shutdown.failed", part=what, error=str(err))
