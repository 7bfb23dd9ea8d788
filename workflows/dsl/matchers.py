"""What a journey can wait for, and what it heard.

One naming convention: every matcher is a constant (`EMAIL_CLICKED`, `PAGE_VIEW`, `PRODUCT_LAUNCHED`), and calling
one narrows it: `PAGE_VIEW("/pricing*")` (a glob on the URL path), `EMAIL_CLICKED("/pricing*")` (a click on such a
link), `PRODUCT_LAUNCHED(topic="mowers")`.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, replace
from datetime import datetime


@dataclass(frozen=True)
class Matcher:
    kind: str  # opened | clicked | page_view | broadcast
    pattern: str | None = None  # glob on the URL path for page views and clicks, on the broadcast kind for broadcasts
    topic: str | None = None

    def __call__(self, url: str | None = None, *, topic: str | None = None) -> Matcher:
        """This matcher narrowed to URL paths matching the glob `url` and/or to one `topic`."""
        if url is not None and self.kind == "broadcast":
            raise TypeError(f"{self} is narrowed by topic=..., not by a URL")
        return replace(self, pattern=url if url is not None else self.pattern, topic=topic or self.topic)

    def matches(self, kind: str, url: str | None, topic: str | None, broadcast_kind: str | None) -> bool:
        if kind != self.kind:
            return False
        if self.topic is not None and topic != self.topic:
            return False
        if self.pattern is None:
            return True
        subject = broadcast_kind if kind == "broadcast" else _path(url)
        return subject is not None and fnmatch.fnmatchcase(subject, self.pattern)

    def __str__(self) -> str:
        extra = f"({self.pattern})" if self.pattern else ""
        return f"{self.kind}{extra}"


def _path(url: str | None) -> str | None:
    if url is None:
        return None
    rest = url.split("://", 1)[-1]
    path = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
    return path.split("?", 1)[0].split("#", 1)[0]


EMAIL_OPENED = Matcher("opened")
EMAIL_CLICKED = Matcher("clicked")
PAGE_VIEW = Matcher("page_view")
PRODUCT_LAUNCHED = Matcher("broadcast", "product_launch")
REGULATION_CHANGED = Matcher("broadcast", "regulation")


@dataclass(frozen=True)
class Happened:
    """What ended a `wait_for`: the matching event. Ask what it was with `heard.matches(PAGE_VIEW("/pricing*"))`."""

    kind: str
    at: datetime
    url: str | None = None
    item_id: str | None = None
    topic: str | None = None
    broadcast_id: str | None = None
    broadcast_kind: str | None = None

    def matches(self, *what: Matcher) -> bool:
        """True if any of `what` matches this event."""
        return any(m.matches(self.kind, self.url, self.topic, self.broadcast_kind) for m in what)
