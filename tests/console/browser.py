"""Playwright driving Debian's chromium (`playwright install` downloads fail here; .ci/run installs chromium)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, async_playwright

CHROMIUM = Path(os.environ.get("NURTURE_TEST_CHROMIUM", "/usr/bin/chromium"))


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Browser]:
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
