"""A broadcast's status reuses a count of its reports for ten times as long as the count took (`nurture.broadcasts
.paced`): a costly count is not repeated for every watcher's poll, a cheap one is fresh on every request. The
module's clock is a fake one here, so the test says the rule and does not depend on the machine's speed."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine

from nurture.broadcasts import paced


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


async def test_a_costly_count_is_reused_until_ten_times_its_cost_has_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(paced, "time", clock)
    engine = create_engine("sqlite://")
    key = (f"bc-{uuid.uuid4().hex[:8]}", "outcomes")
    calls = 0

    async def costly() -> int:
        nonlocal calls
        calls += 1
        clock.now += 0.05  # the count took 50 ms: kept for 500 ms
        return calls

    assert await paced.kept(engine, key, costly) == 1
    clock.now += 0.49
    assert await paced.kept(engine, key, costly) == 1  # within 0.5 s: the same count
    assert await paced.kept(engine, (key[0], "skips"), costly) == 2  # another question is its own count
    clock.now += 0.02  # now past the first count's 0.5 s (the skips count took 50 ms too)
    assert await paced.kept(engine, key, costly) == 3  # expired: counted again
    assert calls == 3

    async def cheap() -> str:
        return uuid.uuid4().hex  # no time passes: kept for no time at all

    other = (f"bc-{uuid.uuid4().hex[:8]}", "outcomes")
    first = await paced.kept(engine, other, cheap)
    assert await paced.kept(engine, other, cheap) != first  # fresh on every request
    engine.dispose()
