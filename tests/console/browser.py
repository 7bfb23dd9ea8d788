"""Playwright driving Debian's chromium (`playwright install` downloads fail here; .ci/run installs chromium).

One chromium per session (per xdist worker): launching it costs a second or two. Each test gets it as
`browser` and opens its own pages (`browser.new_page()` makes a fresh context: its own cookies and storage);
whatever contexts a test leaves open are closed after it, so no sign-in carries over to the next test.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, async_playwright

CHROMIUM = Path(os.environ.get("NURTURE_TEST_CHROMIUM", "/usr/bin/chromium"))


@pytest_asyncio.fixture(scope="session")
async def chromium() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            raise RuntimeError(f"{CHROMIUM} is missing: .ci/run installs chromium")
        pytest.skip(f"no chromium at {CHROMIUM}: apt-get install -y chromium (or set NURTURE_TEST_CHROMIUM)")
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield launched
        finally:
            await launched.close()


@pytest_asyncio.fixture
async def browser(chromium: Browser) -> AsyncIterator[Browser]:
    """The session's chromium; the contexts (and so pages, cookies) this test opened are closed after it."""
    before = set(chromium.contexts)
    try:
        yield chromium
    finally:
        for context in chromium.contexts:
            if context not in before:
                await context.close()
