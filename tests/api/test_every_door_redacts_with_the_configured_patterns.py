"""URLs on their way to Temporal lose the configured PII patterns at every door, not only at /track: /identify
(a visitor's earlier views stitched to a contact), the public opt-in's stitching, and the CLI all take the one
redactor built from the settings (`Settings.url_redactor`)."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from nurture.context import AppContext
from nurture.inbound import contacts, store, web
from tests.fixtures.api import AUTH, ServedApi, free_port, served_api

ROOT = Path(__file__).resolve().parents[2]
PATTERNS = [r"acct-\d+"]
SECRET_URL = "https://shop.example/pricing/acct-991/plan"
REDUCED = "https://shop.example/pricing/redacted/plan"


def urls_in_signals(api: ServedApi, contact_id: int) -> list[Any]:
    return [row.payload.get("url") for row in api.outbox(contact_id=contact_id) if "url" in (row.payload or {})]


async def test_identify_and_the_opt_in_stitch_with_the_configured_patterns(api: ServedApi) -> None:
    ctx = AppContext(
        api.ctx.settings.model_copy(update={"api_port": free_port(), "pii_url_patterns": PATTERNS}),
        api.ctx.engine,
        api.ctx.client,
    )
    async with served_api(ctx, api.key) as served:
        made = await served.http.post(
            "/contacts",
            json={"email": "ada@ledgerline.example", "persona": "it-lead", "consent": {"source": "crm"}},
            headers=AUTH,
        )
        ada = made.json()["contact_id"]
        viewed = await served.http.post("/track", json={"anonymous_id": "visitor-1", "url": SECRET_URL})
        assert viewed.status_code == 200, viewed.text
        linked = await served.http.post(
            "/identify", json={"anonymous_id": "visitor-1", "contact_id": ada}, headers=AUTH
        )
        assert linked.status_code == 200 and linked.json()["signals_queued"] >= 1, linked.text
        assert urls_in_signals(served, ada) and set(urls_in_signals(served, ada)) == {REDUCED}

        await served.http.post("/track", json={"anonymous_id": "visitor-2", "url": SECRET_URL})
        again = {"email": "ada@ledgerline.example", "consent": {"source": "crm"}, "anonymous_id": "visitor-2"}
        assert (await served.http.post("/contacts", json=again, headers=AUTH)).status_code == 200
        assert set(urls_in_signals(served, ada)) == {REDUCED}

        direct = await served.http.post("/track", json={"contact_id": ada, "url": SECRET_URL}, headers=AUTH)
        assert direct.status_code == 200
        assert set(urls_in_signals(served, ada)) == {REDUCED}
        assert "acct-991" not in repr([row.payload for row in served.outbox()])


def test_the_writers_that_route_events_take_the_redactor_with_no_default() -> None:
    """No door, CLI command or worker can fall back to a redactor without the configured patterns."""
    writers = (
        store.route,
        store.store_sendgrid_batch,
        web.store_page_view,
        web.identify,
        web.store_web_engagement,
        contacts.upsert_contact,
    )
    for writer in writers:
        parameter = inspect.signature(writer).parameters["redactor"]
        assert parameter.default is inspect.Parameter.empty, writer.__qualname__
    callers = [ROOT / "nurture/cli/event.py", ROOT / "nurture/api/identity.py", ROOT / "nurture/api/tracking.py"]
    for path in callers:
        assert "settings.url_redactor" in path.read_text(), path
    built = sorted(
        str(p.relative_to(ROOT))
        for p in (ROOT / "nurture").rglob("*.py")
        if "Redactor.of(" in p.read_text() and p.name != "redaction.py"
    )
    assert built == ["nurture/inbound/contacts.py"]  # its NO_URL, for unsubscribe events, which carry no URL
