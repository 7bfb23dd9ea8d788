"""The API journeys are written against. Pure Python: no Temporal, no I/O, no clocks.

A journey is an async function of one argument, a `Journey`, decorated with `@journey(...)`. It reads like a
storyboard: drop content, sleep, wait for the first of several things to happen, check readiness, hand off.
Every primitive is deterministic; the runtime (`workflows.runtime`) gives them durable meaning.
"""

from __future__ import annotations

import fnmatch
import string
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Protocol

STAGES = ("awareness", "consideration", "decision")
DEFAULT_STAGE_THRESHOLDS: dict[str, float] = {"awareness": 0.0, "consideration": 20.0, "decision": 45.0}


def stage_for(score: float, thresholds: dict[str, float] = DEFAULT_STAGE_THRESHOLDS) -> str:
    """The furthest stage whose threshold the score reaches (the one definition of stage from score)."""
    current = STAGES[0]
    for stage in STAGES:
        if score >= thresholds[stage]:
            current = stage
    return current


TEMPLATE_FIELDS = frozenset({"first_name", "last_name", "company", "unsubscribe_url", "preferences_url"})


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def days(n: float) -> timedelta:
    return timedelta(days=n)


def weeks(n: float) -> timedelta:
    return timedelta(weeks=n)


# ---- content -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContentItem:
    """One drop. `body` is a `string.Template` over the contact's fields ($first_name, $company, ...)."""

    id: str
    subject: str
    body: str
    stage: str = "awareness"
    personas: frozenset[str] = frozenset()  # empty: every persona
    topics: frozenset[str] = frozenset()
    kind: str = "article"

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise ValueError(f"item {self.id}: stage {self.stage!r} is not one of {STAGES}")
        for text in (self.subject, self.body):
            unknown = {
                name
                for _, name, braced, _ in string.Template.pattern.findall(text)
                for name in (name or braced,)
                if name
            } - TEMPLATE_FIELDS
            if unknown:
                raise ValueError(f"item {self.id}: unknown template fields {sorted(unknown)}")

    def fits(self, persona: str) -> bool:
        return not self.personas or persona in self.personas


@dataclass(frozen=True)
class Catalog:
    """An ordered set of items. Order is the default drop order within a stage."""

    items: tuple[ContentItem, ...]

    def __post_init__(self) -> None:
        ids = [item.id for item in self.items]
        if len(ids) != len(set(ids)):
            raise ValueError("catalog has duplicate item ids")

    def __contains__(self, item_id: object) -> bool:
        return any(item.id == item_id for item in self.items)

    def get(self, item_id: str) -> ContentItem:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def next_item(self, persona: str, stage: str, sent: Iterable[str], topic: str | None = None) -> ContentItem | None:
        """The next unsent item for persona at stage; falls back to the nearest stage, earlier first.

        With `topic`, only items about that topic qualify.
        """
        done = set(sent)
        fitting = [
            item
            for item in self.items
            if item.fits(persona) and item.id not in done and (topic is None or topic in item.topics)
        ]
        here = STAGES.index(stage)
        order = sorted(range(len(STAGES)), key=lambda i: (abs(i - here), i > here))
        for index in order:
            for item in fitting:
                if item.stage == STAGES[index]:
                    return item
        return None


# ---- what a journey can wait for -----------------------------------------------------------------------


@dataclass(frozen=True)
class Happened:
    """What ended a `wait_for`: the matching event."""

    kind: str
    at: datetime
    url: str | None = None
    item_id: str | None = None
    topic: str | None = None
    broadcast_id: str | None = None


@dataclass(frozen=True)
class Matcher:
    kind: str  # opened | clicked | page_view | broadcast
    pattern: str | None = None  # glob on the URL path for page views, on the broadcast kind for broadcasts
    topic: str | None = None

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


def PAGE_VIEW(pattern: str = "*", topic: str | None = None) -> Matcher:
    """A page view whose URL path matches the glob (e.g. "/pricing*")."""
    return Matcher("page_view", pattern, topic)


def PRODUCT_LAUNCHED(topic: str | None = None) -> Matcher:
    """A product-launch broadcast, optionally for one topic."""
    return Matcher("broadcast", "product_launch", topic)


# ---- the journey ---------------------------------------------------------------------------------------


class Priority(IntEnum):
    """Which held-back drop goes first for one contact (higher first); `nurture.db.DropPriority` stores these."""

    DRIP = 10  # the journey's regular rhythm
    MILESTONE = 20  # a lifecycle milestone (welcome, renewal)
    BROADCAST = 30  # a time-critical broadcast
    SALES = 40  # sales asked for it


@dataclass(frozen=True)
class SendWindow:
    """When drops may go out, in the contact's own time zone."""

    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    start_hour: int = 9
    end_hour: int = 17

    def __post_init__(self) -> None:
        if not (0 <= self.start_hour < self.end_hour <= 24) or not self.weekdays:
            raise ValueError("send window needs start_hour < end_hour and at least one weekday")


class Journey(Protocol):
    """What a storyboard sees. Every method is durable; every property is replay-safe."""

    @property
    def contact_id(self) -> int: ...
    @property
    def persona(self) -> str: ...
    @property
    def topics(self) -> frozenset[str]: ...
    @property
    def stage(self) -> str: ...
    @property
    def score(self) -> float: ...
    @property
    def drops_sent(self) -> int: ...
    @property
    def catalog_exhausted(self) -> bool: ...
    @property
    def rejection_reason(self) -> str | None: ...
    @property
    def now(self) -> datetime:
        """The journey clock: workflow time, stretched by the time scale when the demo compresses time."""
        ...

    async def drop(self, why: str = "", *, topic: str | None = None, priority: int | None = None) -> str | None:
        """Send the next unsent item for persona and stage (about `topic` if given).

        `priority` (a `Priority`) decides which waiting drop goes first when caps hold several back for one
        contact; by default a scheduled drop is `Priority.DRIP`. A held-back drop waits for its slot.

        Returns the item id, or None when nothing is left to send (or the provider refused it).
        """
        ...

    async def sleep(self, duration: timedelta, why: str = "") -> None:
        """Sleep on the journey clock; a zero or negative duration returns at once."""
        ...

    async def until_send_window(self) -> None:
        """Sleep until the journey's send window opens in the contact's time zone (no-op inside it)."""
        ...

    async def wait_for(self, *what: Matcher, timeout: timedelta) -> Happened | None:
        """The first matching event since the last wait, or None at the timeout."""
        ...

    async def ready(self, why: str = "") -> bool:
        """Score the contact and compare with the journey's threshold."""
        ...

    async def hand_off(self, why: str = "") -> str:
        """Hand to sales and wait for feedback: "accepted" ends the journey; "rejected" after a cool-down."""
        ...

    def decide(self, decision: str, why: str) -> None:
        """Record a branch taken and why (shown in status and the Temporal UI)."""
        ...


class JourneyView(Protocol):
    """The read-only part of a journey, given to broadcast relevance rules."""

    @property
    def persona(self) -> str: ...
    @property
    def topics(self) -> frozenset[str]: ...
    @property
    def stage(self) -> str: ...
    @property
    def score(self) -> float: ...


@dataclass(frozen=True)
class Offer:
    """A broadcast as a relevance rule sees it."""

    broadcast_id: str
    kind: str
    item: ContentItem


Storyboard = Callable[[Journey], Awaitable[None]]
Relevance = Callable[[JourneyView, Offer], str | None]  # a skip reason, or None to drop it


def same_topic(view: JourneyView, offer: Offer) -> str | None:
    """Default relevance: the offer shares a topic with the contact, and fits the persona."""
    if not offer.item.fits(view.persona):
        return f"item {offer.item.id} is not for persona {view.persona}"
    if offer.item.topics and not (offer.item.topics & view.topics):
        return f"no shared topic ({', '.join(sorted(offer.item.topics))})"
    return None


@dataclass(frozen=True)
class JourneySpec:
    key: str
    storyboard: Storyboard
    catalog: Catalog
    threshold: float
    summary: str = ""
    send_window: SendWindow | None = SendWindow()
    relevance: Relevance = same_topic
    broadcast_pushes_schedule: bool = True  # push the next drop back so it keeps the minimum gap
    cooldown_after_rejection: timedelta = timedelta(days=30)
    sales_feedback_timeout: timedelta = timedelta(days=14)
    stages: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_STAGE_THRESHOLDS))

    def stage_for(self, score: float) -> str:
        return stage_for(score, self.stages)


REGISTRY: dict[str, JourneySpec] = {}
CATALOGS: dict[str, Catalog] = {}


def register_catalog(name: str, catalog: Catalog) -> Catalog:
    """Make a catalog's items available to broadcasts (journey catalogs are registered by `@journey`)."""
    for other_name, other in CATALOGS.items():
        if other_name == name:
            continue
        clash = {item.id for item in catalog.items} & {item.id for item in other.items}
        if clash:
            raise ValueError(f"item ids {sorted(clash)} appear in catalogs {name!r} and {other_name!r}")
    CATALOGS[name] = catalog
    return catalog


def find_item(item_id: str) -> ContentItem | None:
    """Look an item up across every registered catalog (item ids are unique project-wide)."""
    for catalog in CATALOGS.values():
        if item_id in catalog:
            return catalog.get(item_id)
    return None


def journey(
    key: str,
    *,
    catalog: Catalog,
    threshold: float,
    send_window: SendWindow | None = SendWindow(),
    relevance: Relevance = same_topic,
    broadcast_pushes_schedule: bool = True,
    cooldown_after_rejection: timedelta = timedelta(days=30),
    sales_feedback_timeout: timedelta = timedelta(days=14),
) -> Callable[[Storyboard], Storyboard]:
    """Register a storyboard under `key` (which must equal its file name in definitions/)."""

    def register(fn: Storyboard) -> Storyboard:
        if key in REGISTRY and REGISTRY[key].storyboard is not fn:
            raise ValueError(f"journey {key!r} registered twice")
        register_catalog(key, catalog)
        REGISTRY[key] = JourneySpec(
            key=key,
            storyboard=fn,
            catalog=catalog,
            threshold=threshold,
            summary=(fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else "",
            send_window=send_window,
            relevance=relevance,
            broadcast_pushes_schedule=broadcast_pushes_schedule,
            cooldown_after_rejection=cooldown_after_rejection,
            sales_feedback_timeout=sales_feedback_timeout,
        )
        return fn

    return register
