"""A marketer in a real browser: signs in (a wrong password is refused), writes a broadcast (subject and body
with {first_name}), previews it rendered for a sample contact, starts it, watches the progress bar reach 100% and
the dev outbox hold the subject as written, sees the journey's funnel chart drawn, and opens a contact's
timeline; ops pause both journeys in bulk with a reason. A POST without the CSRF token is refused."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from playwright.async_api import Browser, Page, expect
from sqlmodel import select

from nurture.api.server import build_server
from nurture.broadcasts.service import DeliveryOptions
from nurture.context import AppContext
from nurture.db import OutboxEmail
from nurture.db.engine import session_scope
from tests.broadcasts.rig import Rig, worker
from tests.console.conftest import PASSWORD, USER, add_console_user
from tests.fixtures.api import api_settings, free_port

pytestmark = [pytest.mark.slow, pytest.mark.devserver]
SUBJECT = "{first_name}, your 2027 compliance note"


@contextlib.asynccontextmanager
async def console_server(ctx: AppContext) -> AsyncIterator[str]:
    server = build_server(ctx, "127.0.0.1", ctx.settings.api_port, relay=False)
    server.config.app.state.console_delivery_options = DeliveryOptions(settle_seconds=10, confirm_seconds=5)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{ctx.settings.api_port}"
    finally:
        server.should_exit = True
        await task


async def _sign_in(page: Page, url: str, password: str) -> None:
    await page.fill("input[name=username]", USER)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")


async def test_a_marketer_signs_in_sends_a_broadcast_and_reads_funnel_and_timeline(
    rig: Rig, browser: Browser, webhook_key: tuple[ec.EllipticCurvePrivateKey, str]
) -> None:
    settings = api_settings(
        free_port(), webhook_key[1], task_queue=rig.settings.task_queue, min_gap_between_drops=timedelta(seconds=1)
    )
    rig.settings = settings
    contacts = [rig.contact("finance-lead", ["compliance"]), rig.contact("it-lead", ["compliance"])]
    ctx = AppContext(settings, rig.engine, rig.client)
    add_console_user(rig.engine)
    async with worker(rig), console_server(ctx) as url:
        for cid in contacts:
            await rig.enroll(cid, "b2b_drip")
        await rig.until(lambda: len(rig.sent_touches(contacts)) == 2, what="first drops")
        page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone

        await page.goto(f"{url}/console/broadcasts")
        assert "/console/login" in page.url
        await _sign_in(page, url, "not the password")
        await expect(page.locator(".error")).to_contain_text("Wrong user name or password")
        await _sign_in(page, url, PASSWORD)
        await page.wait_for_url(f"{url}/console/broadcasts")

        await page.select_option("select[name=item_id]", "")  # the marketer writes the content
        await page.fill("input[name=subject]", SUBJECT)
        await page.fill("textarea[name=body]", "Hi {first_name},\n\nthe e-invoicing rules change in 2027.")
        await page.select_option("select[name=kind]", "regulation")
        await page.fill("input[name=content_topics]", "compliance")
        await page.check("input[name=journeys][value=b2b_drip]")
        await page.fill("input[name=contact_ids]", ",".join(map(str, contacts)))
        for _ in range(50):  # visibility is eventually consistent: preview until both journeys show
            await page.click("#preview-button")
            if await page.locator("#audience-count").text_content() == "2":
                break
            await asyncio.sleep(0.2)
        await expect(page.locator("#audience-count")).to_have_text("2")
        await expect(page.locator("#rendered-subject")).to_have_text(re.compile(r"^C\d+, your 2027 compliance note$"))
        await expect(page.locator("#rendered pre").first).to_contain_text("Hi C")  # personalised for the sample
        await page.click("#create-button")
        await page.wait_for_url(f"{url}/console/broadcasts/written-*")
        broadcast_url = page.url

        forged = await page.evaluate(
            """async (u) => (await fetch(u + '/start', {method: 'POST', body: new URLSearchParams({})})).status""",
            broadcast_url,
        )
        assert forged == 403
        await expect(page.locator("#progress-state")).to_have_text("draft")

        await page.click("#start-button")
        await expect(page.locator("#progress-percent")).to_have_text("100", timeout=60_000)
        await expect(page.locator("#progress-state")).to_have_text("completed", timeout=60_000)
        await expect(page.locator(".trail")).to_contain_text("broadcast.start")
        await expect(page.locator(".trail")).to_contain_text("broadcast.created")
        await expect(page.locator("#written")).to_contain_text("{first_name}, your 2027 compliance note")
        header = page.locator("section.card").first
        await expect(header).to_contain_text(": {first_name}, your 2027 compliance note")  # as written, not ${...}
        assert "${" not in await header.inner_text()
        with session_scope(rig.engine) as s:
            subjects = {e.subject for e in s.exec(select(OutboxEmail)).all()}
        assert {f"C{cid - rig.base}, your 2027 compliance note" for cid in contacts} <= subjects  # the dev outbox

        await page.goto(f"{url}/console/journeys/b2b_drip")
        await page.wait_for_function("document.getElementById('funnel-chart')?.dataset.drawn === '6'")
        painted = await page.evaluate(
            """() => { const c = document.getElementById('funnel-chart');
                       const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                       let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }"""
        )
        assert painted > 1000
        await expect(page.locator("#experiments [data-kind=experiment]")).to_contain_text("not enough data yet")

        await page.goto(f"{url}/console/contacts")
        await page.fill("input[name=q]", f"c{contacts[0]}@example.com")
        await page.click("#search-button")
        await page.wait_for_url(f"{url}/console/contacts/{contacts[0]}")
        await expect(page.locator("#timeline")).to_contain_text("drop sent")
        await expect(page.locator("#timeline")).to_contain_text("broadcast:written-")
        link = page.locator("a", has_text="open in the Temporal UI")
        assert f"journey%2Fb2b_drip%2Fcontact-{contacts[0]}" in (await link.get_attribute("href") or "")

        await page.goto(f"{url}/console/bulk")  # ops pause both journeys, with a reason
        await page.select_option("select[name=action]", "pause")
        await page.select_option("select[name=journey]", "b2b_drip")
        await page.fill("input[name=contact_ids]", ",".join(map(str, contacts)))
        await page.fill("input[name=reason]", "pricing change")
        await page.click("#bulk-preview-button")
        await expect(page.locator("#bulk-count")).to_have_text("2")
        await page.click("#bulk-start-button")
        await page.wait_for_url(re.compile(rf"{re.escape(url)}/console/bulk/\d+$"))
        await expect(page.locator("#bulk-percent")).to_have_text("100")
        await expect(page.locator("#bulk-reason")).to_have_text("pricing change")
