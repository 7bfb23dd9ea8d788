"""Login rate limiting: a few failures per client address and per user name, then a pause.

In process memory (one API process sees its own attempts); a sliding window of failures, cleared on success.
"""

from __future__ import annotations

import time
from collections import deque

MAX_FAILURES = 5
WINDOW_SECONDS = 300.0


class LoginThrottle:
    def __init__(self, max_failures: int = MAX_FAILURES, window_seconds: float = WINDOW_SECONDS) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures.setdefault(key, deque())
        while q and q[0] <= now - self.window:
            q.popleft()
        return q

    def retry_after(self, *keys: str) -> float:
        """Seconds until another attempt is allowed for all of `keys` (0: allowed now)."""
        now = time.monotonic()
        waits = [q[0] + self.window - now for k in keys if len(q := self._recent(k, now)) >= self.max_failures]
        return max(waits, default=0.0)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        for k in keys:
            self._recent(k, now).append(now)
        if len(self._failures) > 10_000:  # forget idle keys so a flood of names cannot grow memory without end
            for k in [k for k, q in self._failures.items() if not q]:
                del self._failures[k]

    def succeeded(self, *keys: str) -> None:
        for k in keys:
            self._failures.pop(k, None)
