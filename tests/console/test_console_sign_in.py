"""Signing in to the console: only a console user's password opens it (never the API token), the cookie is
HttpOnly and SameSite=Lax, every POST needs the session's CSRF token, and repeated failures are throttled."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx

from nurture.console.throttle import PAIR, Attempt, LoginThrottle
from tests.console.conftest import PASSWORD, USER, add_console_user, hidden, sign_in
from tests.fixtures.api import API_TOKEN, ServedApi


async def test_pages_need_a_session_and_a_wrong_password_or_the_api_token_is_refused(api: ServedApi) -> None:
    add_console_user(api.ctx.engine)
    async with httpx.AsyncClient(base_url=api.url) as http:
        for path in ("/console/journeys", "/console/broadcasts", "/console/contacts/1"):
            away = await http.get(path)
            assert away.status_code == 303 and away.headers["location"].startswith("/console/login?next=")
        wrong = await sign_in(http, USER, "not the password at all")
        assert wrong.status_code == 401 and "Wrong user name or password" in wrong.text
        token = await sign_in(http, USER, API_TOKEN)
        assert token.status_code == 401
        unknown = await sign_in(http, "nobody", PASSWORD)
        assert unknown.status_code == 401
        assert "nurture_console=" not in "".join(http.cookies.keys())
        assert (await http.get("/console/journeys")).status_code == 303

        ok = await sign_in(http)
        assert ok.status_code == 303 and ok.headers["location"] == "/console/journeys"
        cookie = next(v for k, v in ok.headers.multi_items() if k == "set-cookie" and v.startswith("nurture_console="))
        assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower() and "secure" not in cookie.lower()
        page = await http.get("/console/journeys")
        assert page.status_code == 200 and "Journeys" in page.text and USER in page.text


async def test_a_post_without_the_session_csrf_token_is_refused(api: ServedApi) -> None:
    add_console_user(api.ctx.engine)
    async with httpx.AsyncClient(base_url=api.url) as http:
        assert (await sign_in(http)).status_code == 303
        page = await http.get("/console/broadcasts")
        csrf = hidden(page.text, "csrf_token")
        for data in ({}, {"csrf_token": "forged"}, {"csrf_token": ""}):
            refused = await http.post("/console/logout", data=data)
            assert refused.status_code == 403 and "CSRF" in refused.json()["error"]
            created = await http.post("/console/broadcasts", data={**data, "item_id": "bc-einvoicing-2027"})
            assert created.status_code == 403
        assert (await http.get("/console/journeys")).status_code == 200  # still signed in
        out = await http.post("/console/logout", data={"csrf_token": csrf})
        assert out.status_code == 303
        assert (await http.get("/console/journeys")).status_code == 303
    async with httpx.AsyncClient(base_url=api.url) as stranger:  # a sign-in form without its cookie
        form = await stranger.get("/console/login")
        stranger.cookies.clear()
        posted = await stranger.post(
            "/console/login",
            data={"username": USER, "password": PASSWORD, "csrf_token": hidden(form.text, "csrf_token")},
        )
        assert posted.status_code == 403


async def test_repeated_failures_are_throttled_even_with_the_right_password(api: ServedApi) -> None:
    add_console_user(api.ctx.engine, "victim", PASSWORD)
    async with httpx.AsyncClient(base_url=api.url) as http:  # the app's own throttle: no other test's counts
        for _ in range(5):
            assert (await sign_in(http, "victim", "guess number n")).status_code == 401
        blocked = await sign_in(http, "victim", PASSWORD)
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
        assert (await http.get("/console/journeys")).status_code == 303


async def test_attempts_sent_at_once_are_counted_before_any_password_is_checked(api: ServedApi) -> None:
    add_console_user(api.ctx.engine, "crowded", PASSWORD)
    async with httpx.AsyncClient(base_url=api.url, timeout=60) as http:
        form = await http.get("/console/login")
        data = {"username": "crowded", "password": "guess number n", "csrf_token": hidden(form.text, "csrf_token")}
        answers = await asyncio.gather(*(http.post("/console/login", data=data) for _ in range(40)))
    codes = Counter(a.status_code for a in answers)
    assert codes[401] == PAIR and codes[429] == 40 - PAIR, codes


async def test_a_stranger_failing_for_a_name_does_not_lock_out_its_user_elsewhere(api: ServedApi) -> None:
    add_console_user(api.ctx.engine, "marketer2", PASSWORD)
    stranger, user = {"X-Forwarded-For": "203.0.113.9"}, {"X-Forwarded-For": "198.51.100.7"}  # uvicorn trusts loopback
    async with httpx.AsyncClient(base_url=api.url) as http:
        for _ in range(PAIR):
            assert (await sign_in(http, "marketer2", "guess number n", headers=stranger)).status_code == 401
        assert (await sign_in(http, "marketer2", PASSWORD, headers=stranger)).status_code == 429
        assert (await sign_in(http, "marketer2", PASSWORD, headers=user)).status_code == 303


def test_the_throttle_limits_a_name_from_anywhere_and_an_address_over_any_names() -> None:
    throttle = LoginThrottle(pair=2, client=3, user=4)
    for n in range(4):  # a spread-out run for one name, two failures from each of two addresses
        assert isinstance(throttle.attempt(f"10.0.0.{n // 2}", "admin"), Attempt)
    assert not isinstance(throttle.attempt("10.0.0.9", "admin"), Attempt), "the name pauses after USER failures"
    for name in ("a", "b", "c"):
        assert isinstance(throttle.attempt("10.0.0.7", name), Attempt)
    assert not isinstance(throttle.attempt("10.0.0.7", "d"), Attempt), "the address pauses after CLIENT failures"
    ok = throttle.attempt("10.0.0.8", "e")
    assert isinstance(ok, Attempt)
    throttle.succeeded(ok)
    again = [throttle.attempt("10.0.0.8", "e") for _ in range(2)]
    assert all(isinstance(a, Attempt) for a in again), "a success is no failure, and clears its pair's count"

    spread = LoginThrottle(pair=5, client=20, user=3)
    for address in ("10.1.0.1", "10.1.0.2"):
        assert isinstance(spread.attempt(address, "z"), Attempt)
    mine = spread.attempt("10.1.0.3", "z")
    assert isinstance(mine, Attempt)
    spread.succeeded(mine)  # the real user's success takes back its own count only
    assert isinstance(spread.attempt("10.1.0.4", "z"), Attempt)
    assert not isinstance(spread.attempt("10.1.0.5", "z"), Attempt), "the others' failures still count"


async def test_a_disabled_user_is_signed_out_at_once(api: ServedApi) -> None:
    from sqlmodel import select

    from nurture.db import ConsoleUser
    from nurture.db.engine import session_scope

    add_console_user(api.ctx.engine, "leaver", PASSWORD)
    async with httpx.AsyncClient(base_url=api.url) as http:
        assert (await sign_in(http, "leaver", PASSWORD)).status_code == 303
        assert (await http.get("/console/journeys")).status_code == 200
        with session_scope(api.ctx.engine) as s:
            row = s.exec(select(ConsoleUser).where(ConsoleUser.username == "leaver")).one()
            row.disabled = True
            s.add(row)
        assert (await http.get("/console/journeys")).status_code == 303


async def test_over_https_the_cookie_is_secure_and_next_never_leaves_the_console(api: ServedApi) -> None:
    add_console_user(api.ctx.engine, "traveller", PASSWORD)
    https = {"X-Forwarded-Proto": "https"}  # a TLS-terminating proxy on loopback (uvicorn trusts it)
    async with httpx.AsyncClient(base_url=api.url, headers=https) as http:
        for evil in ("//evil.example/x", "https://evil.example/", "/elsewhere", "/console\\@evil"):
            form = await http.get("/console/login", params={"next": evil})
            assert hidden(form.text, "next") == "/console/journeys"
        form = await http.get("/console/login", params={"next": "/console/contacts"})
        data = {"username": "traveller", "password": PASSWORD, "csrf_token": hidden(form.text, "csrf_token")}
        data["next"] = hidden(form.text, "next")
        http.cookies.set("nurture_console_signin", data["csrf_token"])  # the Secure cookie httpx keeps off http
        done = await http.post("/console/login", data=data)
        assert done.status_code == 303 and done.headers["location"] == "/console/contacts"
        cookie = next(
            v for k, v in done.headers.multi_items() if k == "set-cookie" and v.startswith("nurture_console=")
        )
        assert "secure" in cookie.lower() and "httponly" in cookie.lower()
