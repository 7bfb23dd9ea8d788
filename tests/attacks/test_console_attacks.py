"""Attacks on the console: cookie flags, session fixation, CSRF on every POST, open redirects, stored XSS, framing."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
from sqlalchemy import text

from tests.attacks.kit import victim
from tests.console.conftest import add_console_user, hidden, sign_in
from tests.fixtures.api import ServedApi

XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'><svg/onload=alert(3)>"


def set_cookies(answer: httpx.Response) -> list[str]:
    return [v for k, v in answer.headers.multi_items() if k == "set-cookie"]


async def test_session_cookie_flags_and_no_session_fixation(api: ServedApi) -> None:
    add_console_user(api.ctx.engine)
    api.http.cookies.set("nurture_console", "attacker-chosen", path="/console")
    done = await sign_in(api.http)
    assert done.status_code == 303
    cookie = next(c for c in set_cookies(done) if c.startswith("nurture_console="))
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=lax" in lowered and "path=/console" in lowered
    assert "attacker-chosen" not in cookie
    async with httpx.AsyncClient(base_url=api.url, cookies={"nurture_console": "attacker-chosen"}) as other:
        assert (await other.get("/console/journeys")).status_code == 303  # the chosen value is no session


async def test_a_session_ends_on_the_server_at_logout(api: ServedApi) -> None:
    add_console_user(api.ctx.engine)
    await sign_in(api.http)
    token = api.http.cookies.get("nurture_console")
    page = await api.http.get("/console/journeys")
    out = await api.http.post("/console/logout", data={"csrf_token": hidden(page.text, "csrf_token")})
    assert out.status_code == 303
    async with httpx.AsyncClient(base_url=api.url, cookies={"nurture_console": token or ""}) as replay:
        again = await replay.get("/console/journeys")
        assert again.status_code == 303 and again.headers["location"].startswith("/console/login")


async def test_sign_in_needs_its_own_form_token(api: ServedApi) -> None:
    add_console_user(api.ctx.engine)
    creds = {"username": "marketer", "password": "a long enough password"}
    answer = await api.http.post("/console/login", data=creds)
    assert answer.status_code == 403 and not any(c.startswith("nurture_console=") for c in set_cookies(answer))
    async with httpx.AsyncClient(base_url=api.url) as attacker:
        planted = hidden((await attacker.get("/console/login")).text, "csrf_token")
    answer = await api.http.post("/console/login", data={**creds, "csrf_token": planted})
    assert answer.status_code == 403


EVIL_NEXT = [
    "//evil.example",
    "///evil.example",
    "https://evil.example/console/",
    "/console/../\\evil.example",
    "/console\\evil.example",
    "/\\evil.example/console/",
    "\t//evil.example",
    " /console//evil.example",
    "/console/\r\nSet-Cookie: x=1",
    "javascript:alert(1)//console/",
    "/%2F%2Fevil.example",
    "//evil.example/console/journeys",
]


async def test_sign_in_never_redirects_off_the_console(api: ServedApi) -> None:
    add_console_user(api.ctx.engine)
    for evil in EVIL_NEXT:
        async with httpx.AsyncClient(base_url=api.url) as http:
            form = await http.get("/console/login", params={"next": evil})
            assert form.status_code == 200
            data = {
                "username": "marketer",
                "password": "a long enough password",
                "csrf_token": hidden(form.text, "csrf_token"),
                "next": evil,
            }
            done = await http.post("/console/login", data=data)
            assert done.status_code == 303, (evil, done.text[:200])
            where = done.headers["location"]
            parts = urlsplit(where)
            assert not parts.scheme and not parts.netloc and where.startswith("/console/"), (evil, where)
            assert not where.startswith("//") and "\\" not in where and "\n" not in where


async def test_what_contacts_typed_is_escaped_on_every_console_page(api: ServedApi) -> None:
    contact_id = await victim(api, "xss@ledgerline.example")
    with api.ctx.engine.begin() as conn:  # as a CSV import or an older version could have stored it
        conn.execute(
            text("update contact set first_name = :x, last_name = :x, company = :x, persona = :p where id = :id"),
            {"x": XSS, "p": "<svg/onload=alert(3)>", "id": contact_id},
        )
    add_console_user(api.ctx.engine)
    await sign_in(api.http)
    for path in (f"/console/contacts/{contact_id}", "/console/contacts?q=xss", f"/console/contacts?q={XSS}"):
        page = await api.http.get(path)
        assert page.status_code == 200, path
        for raw in ("<script>alert", "<img src=x", "<svg/onload"):
            assert raw not in page.text, (path, raw)


async def test_console_pages_refuse_to_be_framed(api: ServedApi) -> None:
    """Clickjacking: a page of another site framing the console must not get a signed-in console to click."""
    add_console_user(api.ctx.engine)
    await sign_in(api.http)
    for path in ("/console/login", "/console/journeys", "/console/broadcasts"):
        page = await api.http.get(path)
        framing = page.headers.get("x-frame-options", "").lower()
        policy = page.headers.get("content-security-policy", "")
        assert framing == "deny" or "frame-ancestors 'none'" in policy, path
