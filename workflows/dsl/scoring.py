"""Lead scoring: what engagement is worth, and how fast it fades. A journey declares its rules in `@journey`.

A contact's score is the sum over their events of `points x 0.5 ** (age / half_life)`: a pricing-page visit
yesterday counts almost fully, the same visit two months ago about a quarter. Events after "now" and events
older than the horizon are ignored. Machine opens (Apple Mail Privacy Protection, scanners) are worth nothing.

Pure: the activity that scores contacts reads events from the database and hands them to `ScoringRules.score`.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class PageRule:
    """Page views whose URL path matches `pattern` (a glob) are worth `points`, explained as `label`."""

    pattern: str
    label: str
    points: float


@dataclass(frozen=True)
class Engagement:
    """One stored event, as scoring sees it."""

    kind: str  # opened | clicked | page_view | form_fill | ...
    occurred_at: datetime
    url: str | None = None
    machine: bool = False


@dataclass(frozen=True)
class Contribution:
    """What one kind of engagement added to the score (after decay)."""

    label: str
    points: float
    count: int


@dataclass(frozen=True)
class Scored:
    score: float
    contributions: tuple[Contribution, ...]  # largest first; zero-point kinds left out


@dataclass(frozen=True)
class ScoringRules:
    """The defaults are the house rules (owner: growth marketing with sales); a journey may declare its own."""

    event_points: dict[str, float] = field(
        default_factory=lambda: {"clicked": 5.0, "opened": 1.0, "page_view": 2.0, "form_fill": 10.0}
    )
    page_rules: tuple[PageRule, ...] = (
        PageRule("/pricing*", "pricing page", 15.0),
        PageRule("/products/*", "product page", 8.0),
        PageRule("/product/*", "product page", 8.0),
        PageRule("/mowers/*", "product page", 8.0),
        PageRule("/compare*", "product page", 8.0),
    )
    machine_open_points: float = 0.0
    half_life: timedelta = timedelta(days=30)
    horizon: timedelta = timedelta(days=365)

    def value(self, event: Engagement) -> tuple[str, float]:
        """(label, undecayed points) for one event; unknown kinds are worth nothing."""
        if event.kind == "opened" and event.machine:
            return "opened (machine)", self.machine_open_points
        if event.kind == "clicked" and event.machine:
            return "clicked (link scanner)", 0.0
        if event.kind == "page_view" and event.url is not None:
            path = _path(event.url)
            for rule in self.page_rules:
                if fnmatch.fnmatchcase(path, rule.pattern):
                    return rule.label, rule.points
        return event.kind, self.event_points.get(event.kind, 0.0)

    def decay(self, age: timedelta) -> float:
        return float(0.5 ** (age / self.half_life))

    def score(self, events: Iterable[Engagement], now: datetime) -> Scored:
        points: dict[str, float] = {}
        counts: dict[str, int] = {}
        for event in events:
            age = now - event.occurred_at
            if age < timedelta(0) or age > self.horizon:
                continue
            label, base = self.value(event)
            if base == 0:
                continue
            points[label] = points.get(label, 0.0) + base * self.decay(age)
            counts[label] = counts.get(label, 0) + 1
        contributions = sorted(
            (Contribution(label, round(total, 2), counts[label]) for label, total in points.items()),
            key=lambda c: (-c.points, c.label),
        )
        return Scored(round(sum(points.values()), 2), tuple(contributions))


def _path(url: str) -> str:
    rest = url.split("://", 1)[-1] if "://" in url else url
    if "://" in url:
        rest = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
    return rest.split("?", 1)[0].split("#", 1)[0] or "/"


DEFAULT_SCORING = ScoringRules()
