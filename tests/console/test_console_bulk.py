"""The bulk page previews a pause without changing anything, refuses a start without the CSRF token or a reason,
then records the operation (the POST signals nothing itself), the background runner pauses exactly the audience
(one outbox signal per journey), the progress door follows it to 100% and the page shows it done with the
reason; bad input gets a 422 page."""

from __future__ import annotations

import asyncio
import re

import httpx
from sqlalchemy.engine import Engine

from nurture import temporal_names
from nurture.db import BulkOperation
from tests.bulk.test_bulk_operations import audience
from tests.console.conftest import add_console_user, hidden, sign_in
from tests.fixtures.api import ServedApi


async def test_a_bulk_pause_is_previewed_then_started_with_its_reason(api: ServedApi, engine: Engine) -> None:
    add_console_user(engine)
    ids = audience(engine)
    form = {"action": "pause", "journey": "b2b_drip", "stage": "decision", "reason": "pricing <change>"}
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        assert (await http.get("/console/bulk")).status_code == 303  # signed out
        assert (await sign_in(http)).status_code == 303
        preview = await http.get("/console/bulk", params={**form, "preview": "1"})
        assert preview.status_code == 200
        assert re.search(r'id="bulk-count">2<', preview.text)
        assert all(f'href="/console/contacts/{c}"' in preview.text for c in ids["decision"])
        assert api.count(BulkOperation) == 0 and api.outbox() == []

        csrf = hidden(preview.text, "csrf_token")
        assert (await http.post("/console/bulk", data=form)).status_code == 403
        no_reason = await http.post("/console/bulk", data={**form, "reason": " ", "csrf_token": csrf})
        assert no_reason.status_code == 422 and "say why" in no_reason.text
        for bad in ({"journey": "nope"}, {"min_score": "lots"}, {"action": "explode"}, {"contact_ids": "1,x"}):
            refused = await http.get("/console/bulk", params={**form, **bad, "preview": "1"})
            assert refused.status_code == 422, bad
        assert api.count(BulkOperation) == 0

        assert api.background is not None
        api.background.bulk_batch, api.background.bulk_pause = 1, 0.3  # one journey per batch: progress to watch
        started = await http.post("/console/bulk", data={**form, "csrf_token": csrf})
        assert started.status_code == 303
        location = started.headers["location"]
        assert re.fullmatch(r"/console/bulk/\d+", location)
        seen = []
        for _ in range(100):
            p = (await http.get(f"{location}/progress")).json()
            seen.append(p["done"])
            if p["finished"]:
                break
            await asyncio.sleep(0.1)
        assert p["finished"] and p["percent"] == 100 and p["total"] == 2 and seen[-1] == 2
        assert seen[0] < 2, "the POST recorded the operation; the runner did the work after it returned"
        done = await http.get(location)
        assert re.search(r'id="bulk-percent">100<', done.text) and re.search(r'id="bulk-state">done<', done.text)
        assert "pricing &lt;change&gt;" in done.text and "bulk.pause" in done.text
        signals = api.outbox(signal=temporal_names.SIGNAL_PAUSE_JOURNEY)
        assert sorted(o.contact_id for o in signals) == ids["decision"]
        assert (await http.get("/console/bulk/999999")).status_code == 404
        listing = await http.get("/console/bulk")
        assert f'href="{location}"' in listing.text
