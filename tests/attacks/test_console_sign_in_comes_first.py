"""Console routes, enumerated from the app's router (a new page is covered without editing this file).

Attacks: probe console URLs without a session to learn which journeys, contacts or broadcasts exist (a 404 for
an unknown name next to a sign-in redirect for a known one); post to any console form from another site (CSRF)
with no token or a guessed one. The sign-in throttle lives on each app, and each test signs in once with a user
of its own, so no other test's failed sign-ins can make these flaky.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

import httpx
from fastapi.routing import iter_route_contexts

from nurture.api.app import create_app
from nurture.console.web import PREFIX
from tests.attacks.kit import everything, victim
from tests.console.conftest import PASSWORD, add_console_user, hidden, sign_in
from tests.fixtures.api import ServedApi

PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")
OPEN = {(PREFIX + "/login", "GET"), (PREFIX + "/login", "POST")}  # the sign-in form itself
UNKNOWN = {"journey": "no_such_journey", "contact_id": "987654321", "broadcast_id": "no-such-broadcast"}


def console_routes(api: ServedApi) -> list[tuple[str, str]]:
    """(method, path template) of every console route, sign-in form excepted."""
    found = []
    for route in iter_route_contexts(create_app(api.ctx, relay=False).routes):  # included routers flattened
        methods, path = getattr(route, "methods", None) or set(), route.path or ""
        if path.startswith(PREFIX):
            found += [(m, path) for m in sorted(methods - {"HEAD"}) if (path, m) not in OPEN]
    assert len(found) > 10, found  # the enumeration found the console
    return found


def filled(template: str, known: dict[str, str], *, unknown: bool) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if unknown:
            return UNKNOWN.get(name, "987654321")
        return known.get(name, "1")

    return PARAM.sub(value, template)


def sign_in_trip(answer: httpx.Response) -> tuple[int, str]:
    where = answer.headers.get("location", "")
    return answer.status_code, urlsplit(where).path


async def test_every_console_route_asks_for_sign_in_first_for_known_and_unknown_names(api: ServedApi) -> None:
    contact_id = await victim(api)
    known = {"journey": "b2b_drip", "contact_id": str(contact_id), "action": "pause", "rest": "journeys"}
    seen: dict[tuple[int, str], list[str]] = {}
    async with httpx.AsyncClient(base_url=api.url) as stranger:
        probes = [(m, filled(t, known, unknown=u)) for m, t in console_routes(api) for u in (False, True)]
        probes += [("GET", PREFIX + "/no/such/page"), ("POST", PREFIX + "/journeys/b2b_drip/x"), ("GET", PREFIX)]
        for method, path in probes:
            answer = await stranger.request(method, path, data={"csrf_token": "x"} if method == "POST" else None)
            seen.setdefault(sign_in_trip(answer), []).append(f"{method} {path}")
    assert list(seen) == [(303, PREFIX + "/login")], seen  # one answer for all: nothing to enumerate


async def test_the_sign_in_trip_keeps_the_page_but_never_lets_it_steer_the_redirect(api: ServedApi) -> None:
    async with httpx.AsyncClient(base_url=api.url) as stranger:
        answer = await stranger.get(PREFIX + "/journeys%26next=%2F%2Fevil.example")
    assert answer.status_code == 303
    where = answer.headers["location"]
    assert where.count("next=") == 1 and "&" not in where, where


async def test_every_console_post_refuses_a_missing_or_wrong_csrf_token(api: ServedApi) -> None:
    contact_id = await victim(api)
    user = f"csrf-{uuid.uuid4().hex[:12]}"  # a user of this test's own
    add_console_user(api.ctx.engine, user, PASSWORD)
    async with httpx.AsyncClient(base_url=api.url) as http:
        assert (await sign_in(http, user, PASSWORD)).status_code == 303
        token = hidden((await http.get(PREFIX + "/journeys")).text, "csrf_token")
        before = everything(api.ctx.engine)
        known = {"journey": "b2b_drip", "contact_id": str(contact_id), "action": "pause", "operation_id": "1"}
        posts = [t for m, t in console_routes(api) if m == "POST" and "{rest" not in t]
        assert PREFIX + "/logout" in posts and PREFIX + "/broadcasts" in posts
        for template in posts:
            path = filled(template, known, unknown=False)
            for data in ({}, {"csrf_token": "guessed-" + token[:8]}, {"csrf_token": ""}):
                answer = await http.post(path, data=data)
                assert answer.status_code == 403, (path, data, answer.status_code, answer.text[:200])
            header = await http.post(path, headers={"x-csrf-token": token[::-1]})
            assert header.status_code == 403, (path, header.status_code)
        assert everything(api.ctx.engine) == before  # no form did anything
        assert (await http.get(PREFIX + "/journeys")).status_code == 200  # still signed in: logout refused too
