"""What a storyboard sees: the `Journey` it is given, and what broadcast relevance rules see."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from workflows.dsl.calls import CallOutcome
from workflows.dsl.content import ContentItem
from workflows.dsl.fit import FitGrade
from workflows.dsl.matchers import Happened, Matcher
from workflows.dsl.results import DropResult, SalesAnswer


@dataclass(frozen=True)
class SendWindow:
    """When drops may go out, in the contact's own time zone."""

    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    start_hour: int = 9
    end_hour: int = 17

    def __post_init__(self) -> None:
        if not (0 <= self.start_hour < self.end_hour <= 24) or not self.weekdays:
            raise ValueError("send window needs start_hour < end_hour and at least one weekday")


BUSINESS_HOURS = SendWindow()  # the default: weekdays, 9 to 17


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
    def grade(self) -> FitGrade:
        """The fit grade the last `ready()` found (from profile facts: role, company size, industry, country)."""
        ...

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

    async def drop(
        self,
        why: str = "",
        *,
        topic: str | None = None,
        item: str | None = None,
        wait_out_gap: bool = True,
        priority: int | None = None,
    ) -> DropResult:
        """Send the next unsent item for persona and stage (about `topic` if given), or the catalog's `item`.

        `priority` (a `Priority`) decides which waiting drop goes first when caps hold several back for one
        contact; by default a scheduled drop is `Priority.DRIP`.

        A drop inside the minimum gap since the last one waits the gap out; with `wait_out_gap=False` it returns
        DEFERRED (with `until`) instead. The result says sent, exhausted, refused, already sent or deferred.
        """
        ...

    async def sleep(self, duration: timedelta, why: str = "") -> None:
        """Sleep on the journey clock; a zero or negative duration returns at once."""
        ...

    async def sleep_until(self, at: datetime, why: str = "") -> None:
        """Sleep until `at` on the journey clock (at once if it has passed): `sleep_until(sent_at + weeks(2))`."""
        ...

    async def until_send_window(self) -> None:
        """Sleep until the journey's send window opens in the contact's time zone (no-op inside it)."""
        ...

    async def wait_for(self, *what: Matcher, timeout: timedelta) -> Happened | None:
        """The first matching event not yet consumed by an earlier wait, or None at the timeout.

        Events that arrived before the wait began count (a pricing visit while the journey slept, or an anonymous
        visit before the contact opted in); each event answers at most one wait; a wait that times out consumes
        everything heard so far.
        """
        ...

    async def ready(self, why: str = "") -> bool:
        """Score and grade the contact; ready by the journey's MQL rule over fit and behaviour if it registered one
        (`definitions.leads.readiness.READINESS`), else by its score against the threshold."""
        ...

    async def hand_off(self, why: str = "") -> SalesAnswer:
        """Hand to sales and wait for their answer: accepted, rejected (with a reason) or no answer in time.

        What follows is the storyboard's choice: typically `return` when accepted (the contact is a customer),
        `await j.cool_down()` otherwise.
        """
        ...

    async def cool_down(self) -> None:
        """Rest for the journey's `cooldown_after_rejection` (phase cooling_down), then back to nurturing."""
        ...

    async def call_task(self, why: str, timeout: timedelta) -> CallOutcome:
        """Ask a person to phone the contact (a task row and a signed CRM webhook with what a rep needs), then wait
        for how it went: reached and interested, reached but not now, no answer, or timed out."""
        ...

    def changed(self, change_id: str) -> bool:
        """Versioning: True where this journey runs the code below a change, False where it replays from before it.

        Wrap a change to a storyboard with contacts in flight in `if j.changed("what-changed"):` (new code) /
        `else:` (the code as it was). Journeys that passed this point before the change was deployed replay the
        old branch; every journey reaching it afterwards (new contacts, and contacts in flight from then on)
        takes the new one. Never reuse a change id.
        """
        ...

    def decide(self, decision: str, why: str) -> None:
        """Record a branch taken and why (shown in status and the Temporal UI)."""
        ...

    async def reach_stage(self, stage: str, why: str) -> bool:
        """Move the contact forward to lifecycle `stage` (a journey step: never back); True if it moved."""
        ...

    async def variant(self, key: str, arms: Sequence[str], weights: Sequence[float] | None = None) -> str:
        """The contact's arm of experiment `key` (the first arm is the control; equal weights unless given).

        Deterministic from the contact id and the key, journalled, shown in status and recorded on every later
        touch: `if await j.variant("subject-line", ["a", "b"]) == "b": ...`.
        """
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
