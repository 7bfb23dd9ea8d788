"""Console pages over HTTP on both databases: a journey's funnel and its honest experiments panel with Temporal
unreachable, a contact's timeline with what they typed escaped, and a preview that never shows a working
unsubscribe link."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import insert

from nurture.clock import utcnow
from nurture.config import Settings
from nurture.console.compose import render_sample
from nurture.db import Contact
from nurture.db.tables import CONTACT, ENROLLMENT, EVENT, TOUCH
from tests.console.conftest import add_console_user, sign_in
from tests.fixtures.api import ServedApi
from workflows.dsl import find_item

pytestmark = pytest.mark.measured  # b2b_drip with its shipped holdout

EVIL = '<script>alert("x")</script>'


def _seed(api: ServedApi) -> int:
    now = utcnow() - timedelta(minutes=5)
    with api.ctx.engine.begin() as conn:
        cid = conn.execute(
            insert(CONTACT).returning(CONTACT.c.id),
            {
                "email": "ada@example.com",
                "first_name": EVIL,
                "last_name": "",
                "company": "",
                "persona": "general",
                "time_zone": "UTC",
                "topics": [],
                "status": "active",
                "consent_source": "form /demo",
                "created_at": now,
                "updated_at": now,
            },
        ).scalar_one()
        wf = f"journey/b2b_drip/contact-{cid}"
        conn.execute(
            insert(ENROLLMENT),
            {
                "contact_id": cid,
                "journey": "b2b_drip",
                "workflow_id": wf,
                "enrolled_at": now,
            },
        )
        conn.execute(
            insert(TOUCH),
            {
                "idempotency_key": f"{wf}:ll-1",
                "contact_id": cid,
                "journey": "b2b_drip",
                "workflow_id": wf,
                "step": "drop 1",
                "item_id": "ll-1",
                "channel": "email",
                "sender": "outbox",
                "status": "sent",
                "reason": "scheduled drop",
                "created_at": now,
                "sent_at": now,
            },
        )
        conn.execute(
            insert(EVENT),
            {
                "dedupe_key": "e1",
                "contact_id": cid,
                "kind": "opened",
                "source": "sendgrid",
                "journey": "b2b_drip",
                "item_id": "ll-1",
                "machine": False,
                "data": {},
                "occurred_at": now + timedelta(hours=1),
                "received_at": now,
            },
        )
    return int(cid)


async def test_journey_contact_and_search_pages_show_the_database_and_escape_what_contacts_typed(
    api: ServedApi,
) -> None:
    add_console_user(api.ctx.engine)
    cid = _seed(api)
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        assert (await sign_in(http)).status_code == 303
        index = await http.get("/console/journeys")
        assert index.status_code == 200 and 'href="/console/journeys/b2b_drip"' in index.text
        journey = await http.get("/console/journeys/b2b_drip")
        for _ in range(100):  # the background fold, not the GET, brings the open into the funnel
            if '["opened", [1]]' in journey.text:
                break
            await asyncio.sleep(0.1)
            journey = await http.get("/console/journeys/b2b_drip")
        assert journey.status_code == 200
        assert "funnel-chart" in journey.text and '["opened", [1]]' in journey.text  # the rollup folded the open
        assert 'data-kind="holdout"' in journey.text and 'data-kind="experiment"' in journey.text
        assert "not enough data yet" in journey.text  # one contact: the panel says so rather than call a winner
        assert (await http.get("/console/journeys/b2b_drip", params={"outcome": "mql"})).status_code == 200
        for bad in ({"outcome": "lost"}, {"window": "0"}, {"window": "soon"}):
            assert (await http.get("/console/journeys/b2b_drip", params=bad)).status_code == 422, bad
        plain = await http.get("/console/journeys/b2c_cultivation")
        assert "No experiments defined for this journey." in plain.text
        assert "stage and phase counts are unavailable" in journey.text  # Temporal unreachable: said, not faked
        assert (await http.get("/console/journeys/no_such_journey")).status_code == 404

        found = await http.get("/console/contacts", params={"q": "ada@example.com"})
        assert found.status_code == 303 and found.headers["location"] == f"/console/contacts/{cid}"
        assert (await http.get("/console/contacts", params={"q": "nobody@"})).status_code == 200
        page = await http.get(f"/console/contacts/{cid}")
        assert page.status_code == 200
        assert EVIL not in page.text and "&lt;script&gt;" in page.text
        assert "drop sent" in page.text and "ll-1" in page.text and "form /demo" in page.text
        assert f"/workflows/journey%2Fb2b_drip%2Fcontact-{cid}" in page.text
        assert (await http.get("/console/contacts/999999")).status_code == 404


async def test_users_from_configuration_sign_in_with_their_hash(api: ServedApi) -> None:
    from nurture.console import passwords

    api.ctx.settings.console_users = {"ops": passwords.hash_password("configured password")}
    try:
        async with httpx.AsyncClient(base_url=api.url) as http:
            assert (await sign_in(http, "ops", "configured password")).status_code == 303
            assert (await http.get("/console/journeys")).status_code == 200
    finally:
        api.ctx.settings.console_users = {}


def test_the_rendered_sample_masks_signed_links() -> None:
    settings = Settings(_env_file=None, public_base_url="http://mail.example", tracking_secret=SecretStr("s" * 32))  # type: ignore[call-arg]
    item = find_item("bc-einvoicing-2027")
    assert item is not None
    now = utcnow()
    contact = Contact(id=7, email="x@example.com", first_name="Ada", created_at=now, updated_at=now)
    sample = render_sample(settings, contact, item, "b2b_drip")
    assert "Hi Ada" in sample.text and "e-invoicing" in sample.subject
    assert "[signed unsubscribe link]" in sample.text
    assert "/u/" not in sample.text and "/u/" not in sample.html and "/t/o/" not in sample.html


async def test_a_draft_is_cancelled_from_its_page_and_every_action_lands_in_the_audit_trail(api: ServedApi) -> None:
    from nurture.db import Broadcast
    from nurture.db.engine import session_scope
    from tests.console.conftest import hidden

    add_console_user(api.ctx.engine)
    with session_scope(api.ctx.engine) as s:
        s.add(
            Broadcast(
                id="draft-1",
                kind="regulation",
                item_id="bc-einvoicing-2027",
                audience_query="x",
                created_by="api-token",
                created_at=utcnow(),
            )
        )
    async with httpx.AsyncClient(base_url=api.url) as http:
        assert (await sign_in(http)).status_code == 303
        page = await http.get("/console/broadcasts/draft-1")
        assert page.status_code == 200 and 'id="progress-state">draft<' in page.text
        csrf = hidden(page.text, "csrf_token")
        paused = await http.post("/console/broadcasts/draft-1/pause", data={"csrf_token": csrf})
        assert paused.status_code == 303 and "has+not+started" in paused.headers["location"]
        cancelled = await http.post("/console/broadcasts/draft-1/cancel", data={"csrf_token": csrf})
        assert cancelled.status_code == 303
        after = await http.get("/console/broadcasts/draft-1")
        assert 'id="progress-state">cancelled<' in after.text
        assert "broadcast.cancel" in after.text and "broadcast.pause" in after.text and "refused" in after.text
        assert (await http.get("/console/broadcasts/nope")).status_code == 404
        form = {"csrf_token": csrf, "item_id": "bc-einvoicing-2027", "journeys": "b2b_drip"}
        down = await http.post("/console/broadcasts", data=form)  # Temporal is unreachable in this fixture
        assert down.status_code == 503 and "Temporal unavailable, nothing was created" in down.text
        preview = await http.get("/console/broadcasts", params={"preview": "1", "item_id": "bc-einvoicing-2027"})
        assert preview.status_code == 503 and "Temporal unavailable" in preview.text
        bad = await http.get("/console/broadcasts", params={"preview": "1", "item_id": "no-such-item"})
        assert bad.status_code == 422 and "unknown content item" in bad.text
        progress = await http.get("/console/broadcasts/draft-1/progress")
        assert progress.json()["state"] == "cancelled" and progress.json()["finished"] is True
