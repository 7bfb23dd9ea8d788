"""Which events each journey waits for, so only journeys whose decisions depend on an event are signalled.

Storyboards are pure async functions of a `Journey`, so the events a journey can wait for are found by running
its storyboard against a recording probe and exploring its branches (each wait's outcomes, each readiness
verdict). A journey the probe cannot explore (or an unknown one) hears everything: a missed signal would make
a journey deaf, an extra one only costs a signal.
"""

from __future__ import annotations

import functools
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

from nurture.logging import get_logger
from workflows import dsl

log = get_logger(__name__)

MAX_CALLS = 40  # primitives per probe run
MAX_RUNS = 300  # runs per journey (persona x topics x branch prefixes)
MAX_DEPTH = 8  # choice points explored per run
_EPOCH = datetime(2026, 1, 5, 9, tzinfo=UTC)


class _Stop(Exception):
    pass


class _Probe:
    """A `dsl.Journey` whose choices follow a script and which records what the storyboard waits for."""

    def __init__(self, persona: str, topics: frozenset[str], script: list[int]) -> None:
        self.contact_id = 0
        self.persona = persona
        self.topics = topics
        self.stage = "awareness"
        self.score = 0.0
        self.grade = dsl.FitGrade()
        self.drops_sent = 0
        self.catalog_exhausted = False
        self.rejection_reason: str | None = None
        self.now = _EPOCH
        self.script = script
        self.choices: list[tuple[int, int]] = []  # (chosen, number of options) per choice point
        self.heard: set[dsl.Matcher] = set()
        self._calls = 0

    def _tick(self) -> None:
        self._calls += 1
        self.now += timedelta(hours=1)
        if self._calls > MAX_CALLS:
            raise _Stop

    def _choose(self, options: int) -> int:
        index = len(self.choices)
        chosen = self.script[index] if index < len(self.script) else 0
        self.choices.append((chosen, options))
        return chosen

    async def drop(
        self,
        why: str = "",
        *,
        topic: str | None = None,
        item: str | None = None,
        wait_out_gap: bool = True,
        priority: int | None = None,
    ) -> dsl.DropResult:
        self._tick()
        self.drops_sent += 1
        return dsl.DropResult(dsl.DropOutcome.SENT, item or "probe-item")

    async def sleep(self, duration: timedelta, why: str = "") -> None:
        self._tick()

    async def until_send_window(self) -> None:
        self._tick()

    async def wait_for(self, *what: dsl.Matcher, timeout: timedelta) -> dsl.Happened | None:
        self._tick()
        self.heard.update(what)
        chosen = self._choose(len(what) + 1)
        if chosen == 0:
            return None
        m = what[chosen - 1]
        url = "https://probe.example" + (m.pattern or "/").replace("*", "x")
        kind = m.pattern if m.kind == "broadcast" else None  # so `heard.matches(PRODUCT_LAUNCHED)` holds in the probe
        return dsl.Happened(kind=m.kind, at=self.now, url=url, topic=m.topic, broadcast_kind=kind)

    async def ready(self, why: str = "") -> bool:
        self._tick()
        return self._choose(2) == 1

    async def hand_off(self, why: str = "") -> dsl.SalesAnswer:
        self._tick()
        verdict = list(dsl.Verdict)[self._choose(len(dsl.Verdict))]
        if verdict is not dsl.Verdict.ACCEPTED:
            self.rejection_reason = "probe"
        return dsl.SalesAnswer(verdict, "probe")

    def changed(self, change_id: str) -> bool:
        return self._choose(2) == 1  # explore the code before and after the change

    def decide(self, decision: str, why: str) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        """A primitive added to `dsl.Journey` after this probe was written: an async no-op returning None."""
        if name.startswith("_"):
            raise AttributeError(name)

        async def primitive(*args: Any, **kwargs: Any) -> None:
            self._tick()

        return primitive


def _run(spec: dsl.JourneySpec, probe: _Probe) -> None:
    coro = spec.storyboard(probe)
    if not isinstance(coro, Coroutine):
        raise TypeError("a storyboard must be an async function")
    try:
        coro.send(None)
    except (StopIteration, _Stop):
        return
    finally:
        coro.close()
    raise RuntimeError("storyboard awaited something other than journey primitives")


def _explore(spec: dsl.JourneySpec) -> frozenset[dsl.Matcher] | None:
    personas = {p for item in spec.catalog.items for p in item.personas} | {"general"}
    all_topics = frozenset(t for item in spec.catalog.items for t in item.topics)
    heard: set[dsl.Matcher] = set()
    runs = 0
    for persona in sorted(personas):
        for topics in (all_topics, frozenset()):
            pending: list[list[int]] = [[]]
            while pending and runs < MAX_RUNS:
                script = pending.pop()
                probe = _Probe(persona, topics, script)
                _run(spec, probe)
                runs += 1
                heard |= probe.heard
                for index in range(len(script), min(len(probe.choices), MAX_DEPTH)):
                    _, options = probe.choices[index]
                    prefix = [chosen for chosen, _ in probe.choices[:index]]
                    pending.extend([*prefix, alt] for alt in range(1, options))
    return frozenset(heard) or None


@functools.cache
def listened(journey: str) -> frozenset[dsl.Matcher] | None:
    """What `journey` can wait for; None = unknown, treat as everything."""
    spec = dsl.REGISTRY.get(journey)
    if spec is None:
        return None
    try:
        return _explore(spec)
    except Exception as err:  # an unexplorable storyboard hears everything
        log.warning("interest.unexplorable", journey=journey, error=f"{type(err).__name__}: {err}")
        return None


def wants(journey: str, kind: str, url: str | None = None, topic: str | None = None) -> bool:
    """Does `journey` wait for this event (kind opened/clicked/page_view)?"""
    matchers = listened(journey)
    if matchers is None:
        return True
    return any(m.matches(kind, url, topic, None) for m in matchers)
