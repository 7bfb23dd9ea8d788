"""Console fixtures: a console user, signing in over plain HTTP, a browser, and the broadcast rig."""

from __future__ import annotations

import re

import httpx
from sqlalchemy.engine import Engine

from nurture.clock import utcnow
from nurture.console import passwords, store
from nurture.db.engine import session_scope
from tests.broadcasts.conftest import rig  # noqa: F401  (the broadcast rig: worker, dev server)
from tests.console.browser import browser, chromium  # noqa: F401  (Playwright on Debian's chromium)

USER, PASSWORD = "marketer", "a long enough password"


def add_console_user(engine: Engine, username: str = USER, password: str = PASSWORD) -> None:
    with session_scope(engine) as s:
        store.add_user(s, username, passwords.hash_password(password), utcnow())


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden field {name}"
    return found.group(1)


async def sign_in(
    http: httpx.AsyncClient, username: str = USER, password: str = PASSWORD, headers: dict[str, str] | None = None
) -> httpx.Response:
    form = await http.get("/console/login")
    return await http.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": hidden(form.text, "csrf_token")},
        headers=headers,
    )
