"""In a real browser (Playwright driving Debian's chromium): the journey page of the shipped b2b_drip over a
seeded population shows the holdout comparison and the subject-line experiment, each arm's contacts,
conversions and rate, the difference with its 95% interval and the verdict, the same figures as `comparisons`
(what `nurture report uplift` prints), for a click and for a lifecycle stage; the funnel chart is drawn. A bulk
pause started in the browser shows its bar moving to 100% without a reload."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy.engine import Engine

from nurture.clock import utcnow
from nurture.measure.arms import CLICK, comparisons
from nurture.measure.outcomes import StageOutcome
from nurture.measure.panel import WINDOW_DAYS
from nurture.measure.uplift import Uplift
from tests.console.conftest import PASSWORD, USER, add_console_user
from tests.fixtures.api import ServedApi
from tests.measure import seeded

pytestmark = [pytest.mark.slow, pytest.mark.measured]


async def _signed_in(browser: Browser, url: str, path: str) -> Page:
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await page.goto(f"{url}{path}")
    await page.fill("input[name=username]", USER)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{url}{path}")
    return page


async def _shows(page: Page, kind: str, u: Uplift) -> None:
    box = page.locator(f"#experiments [data-kind={kind}]")  # a new question: "computing", reloads until it is in
    await expect(box.locator(".verdict")).to_have_text(u.verdict, timeout=20_000)
    rows = box.locator("tbody tr")
    for n, arm in enumerate((u.control, u.treatment)):
        cells = [arm.name, str(arm.entered), str(arm.converted), f"{arm.rate:.1%}"]
        await expect(rows.nth(n).locator("td")).to_have_text(cells)
    assert u.difference is not None and u.low is not None and u.high is not None
    span = f"{u.difference * 100:+.1f} pts ({u.low * 100:+.1f} to {u.high * 100:+.1f})"
    await expect(rows.nth(2).locator("td").nth(3)).to_have_text(span)


async def test_the_journey_page_shows_holdout_and_experiment_figures_and_draws_the_funnel(
    api: ServedApi, engine: Engine, browser: Browser
) -> None:
    add_console_user(engine)
    assert api.background is not None
    with engine.begin() as conn:
        seeded.seed(conn, utcnow() - timedelta(days=1))  # enrolled 31 days ago: the 30-day window has passed
    api.background.uplift.max_age = timedelta(0)  # the snapshot taken at start-up, before the seed, is stale
    await asyncio.to_thread(api.background.uplift_once)  # what the background does on its next round
    with engine.connect() as conn:
        held, subject = comparisons(
            conn, seeded.JOURNEY, CLICK, WINDOW_DAYS, holdout=True, experiments=seeded.SPEC.experiments
        )
        mql_held, mql_subject = comparisons(
            conn, seeded.JOURNEY, StageOutcome("mql"), 14, holdout=True, experiments=seeded.SPEC.experiments
        )
    assert held.verdict.startswith("treated ahead by") and subject.verdict.startswith("b ahead by")

    page = await _signed_in(browser, api.url, "/console/journeys/b2b_drip")
    await _shows(page, "holdout", held)
    await _shows(page, "experiment", subject)
    await expect(page.locator("#experiments [data-kind=experiment] h3")).to_contain_text("experiment subject-line")

    await page.fill("#uplift-question input[name=outcome]", "mql")
    await page.fill("#uplift-question input[name=window]", "14")
    await page.click("#uplift-question button[type=submit]")
    await page.wait_for_url("**outcome=mql**")
    await _shows(page, "holdout", mql_held)
    await _shows(page, "experiment", mql_subject)
    await expect(page.locator("#experiments [data-kind=holdout] h3")).to_contain_text("reached Marketing qualified")

    for _ in range(50):  # the rollup is folded in the background: the chart appears once it has the touches
        await page.goto(f"{api.url}/console/journeys/b2b_drip")
        if await page.locator("#funnel-chart").count():
            break
        await page.wait_for_timeout(200)
    await page.wait_for_function("document.getElementById('funnel-chart')?.dataset.drawn === '6'")
    painted = await page.evaluate(
        """() => { const c = document.getElementById('funnel-chart');
                   const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                   let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }"""
    )
    assert painted > 1000, "the funnel chart drew bars"


async def test_a_bulk_pause_shows_live_progress_to_one_hundred_percent(
    api: ServedApi, engine: Engine, browser: Browser
) -> None:
    add_console_user(engine)
    with engine.begin() as conn:
        seeded.seed(conn, utcnow())
    assert api.background is not None
    api.background.bulk_batch, api.background.bulk_pause = 500, 0.4  # 3,100 journeys: seven batches to watch
    page = await _signed_in(browser, api.url, "/console/bulk")
    await page.select_option("select[name=action]", "pause")
    await page.select_option("select[name=journey]", "b2b_drip")
    await page.fill("[name=reason]", "pricing page rewrite")
    await page.click("#bulk-preview-button")
    await expect(page.locator("#bulk-count")).to_have_text(str(seeded.POPULATION + 100))
    await page.click("#bulk-start-button")
    await page.wait_for_url("**/console/bulk/*")
    first = int(await page.locator("#bulk-percent").inner_text())
    assert first < 100, "the POST only recorded the operation"
    await expect(page.locator("#bulk-percent")).to_have_text("100", timeout=30_000)  # polled, no reload
    await expect(page.locator("#bulk-state")).to_have_text("done")
    await expect(page.locator("#bulk-done")).to_have_text(str(seeded.POPULATION + 100))
    await expect(page.locator("#bulk-continue-button")).to_have_count(0)
