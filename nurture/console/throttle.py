"""Login rate limiting: a few failures per user name from one client address, more per user name from anywhere and
per client address over any names, then a pause.

An attempt is counted when it starts (`attempt`), before its password is checked, so attempts sent at once cannot
all pass a check that sees none of the others; a success takes its own count back and clears its user's count from
its address. The limits are per pair first: a stranger who fails five times for a user name pauses only that name
from the stranger's address, while the user signing in from elsewhere still can (until `USER` failures from
anywhere, a spread-out guessing run, pause the name itself). In process memory: each API process counts its own.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

WINDOW_SECONDS = 300.0
PAIR = 5  # failures for one user name from one client address
CLIENT = 20  # failures from one client address, whatever the names
USER = 50  # failures for one user name, from any address
VERIFY_AT_ONCE = 2  # password checks at once per API process (argon2id: 64 MiB and ~50 ms each)
MAX_KEYS = 10_000  # idle keys are forgotten past this, so a flood of names cannot grow memory without end


@dataclass(frozen=True)
class Attempt:
    """One sign-in attempt in progress, counted under its keys at `at`."""

    keys: tuple[tuple[str, int], ...]
    at: float


class LoginThrottle:
    def __init__(self, window_seconds: float = WINDOW_SECONDS, *, pair: int = PAIR, client: int = CLIENT,
                 user: int = USER) -> None:  # fmt: skip
        self.window = window_seconds
        self.limits = {"pair": pair, "client": client, "user": user}
        self._counts: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._counts.setdefault(key, deque())
        while q and q[0] <= now - self.window:
            q.popleft()
        return q

    def attempt(self, client: str, username: str) -> Attempt | float:
        """Count an attempt by `client` for `username` now, or the seconds until one is allowed."""
        now = time.monotonic()
        name = username.lower()[:120]  # a user name is at most 120 characters: a longer one keys no more memory
        keys = ((f"pair:{client}:{name}", self.limits["pair"]), (f"client:{client}", self.limits["client"]),
                (f"user:{name}", self.limits["user"]))  # fmt: skip
        waits = [q[0] + self.window - now for k, limit in keys if len(q := self._recent(k, now)) >= limit]
        if waits:
            return max(waits)
        for k, _ in keys:
            self._recent(k, now).append(now)
        if len(self._counts) > MAX_KEYS:
            for k in [k for k, q in self._counts.items() if not q]:
                del self._counts[k]
        return Attempt(keys, now)

    def succeeded(self, attempt: Attempt) -> None:
        """The attempt signed in: it was no failure, and its user's failures from its address are forgotten."""
        pair = attempt.keys[0][0]
        self._counts.pop(pair, None)
        for key, _ in attempt.keys[1:]:
            q = self._counts.get(key)
            if q is not None and attempt.at in q:
                q.remove(attempt.at)
