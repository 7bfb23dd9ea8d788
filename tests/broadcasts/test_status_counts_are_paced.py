"""A broadcast's status reuses a count of its reports for ten times as long as the count took (`nurture.broadcasts
.paced`): a costly count is not repeated for every watcher's poll, a cheap one is fresh on every request."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import create_engine

from nurture.broadcasts import paced


async def test_a_costly_count_is_reused_until_ten_times_its_cost_has_passed() -> None:
    engine = create_engine("sqlite://")
    key = (f"bc-{uuid.uuid4().hex[:8]}", "outcomes")
    calls = 0

    async def costly() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)  # kept for 0.5 s
        return calls

    assert await paced.kept(engine, key, costly) == 1
    assert await paced.kept(engine, key, costly) == 1  # within 0.5 s: the same count
    assert await paced.kept(engine, (key[0], "skips"), costly) == 2  # another question is its own count
    await asyncio.sleep(0.6)
    assert await paced.kept(engine, key, costly) == 3  # expired: counted again
    assert calls == 3

    async def cheap() -> str:
        return uuid.uuid4().hex

    other = (f"bc-{uuid.uuid4().hex[:8]}", "outcomes")
    first = await paced.kept(engine, other, cheap)
    await asyncio.sleep(0.01)
    assert await paced.kept(engine, other, cheap) != first  # microseconds to count: fresh on every request
    engine.dispose()
