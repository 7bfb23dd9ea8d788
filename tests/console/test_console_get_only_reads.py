"""GET never changes state: with the background fold held off, opening a journey page leaves the funnel rollup's
watermarks where they were (the page used to fold new rows itself); the background fold then moves them."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import select

from nurture.db.tables import FUNNEL_WATERMARK
from tests.console.conftest import add_console_user, sign_in
from tests.console.test_console_pages import _seed
from tests.fixtures.api import ServedApi

pytestmark = pytest.mark.slow


def _marks(api: ServedApi) -> dict[str, int]:
    with api.ctx.engine.connect() as conn:
        return {
            str(s): int(n) for s, n in conn.execute(select(FUNNEL_WATERMARK.c.source, FUNNEL_WATERMARK.c.last_id)).all()
        }


async def test_a_journey_page_reads_and_the_background_folds(api: ServedApi) -> None:
    assert api.background is not None
    add_console_user(api.ctx.engine)
    api.background.fold_every = 3600.0
    await asyncio.sleep(2.5)  # the fold already asleep wakes once more, then waits an hour
    before = _marks(api)
    _seed(api)  # a touch and an open, five minutes old: settled, due to be folded
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        assert (await sign_in(http)).status_code == 303
        for _ in range(3):
            assert (await http.get("/console/journeys/b2b_drip")).status_code == 200
    assert _marks(api) == before, "a GET folded rows into the rollup"
    await asyncio.to_thread(api.background.fold_once)  # what the background task does on its next round
    after = _marks(api)
    assert after.get("touch", 0) > before.get("touch", 0) and after.get("event", 0) > before.get("event", 0)
