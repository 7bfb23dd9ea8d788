"""Hostile bodies, headers and paths on every door: a clear 4xx in the error schema, never a 5xx; and no GET
(with any query) changes a row."""

from __future__ import annotations

from typing import Any

import h11
import httpx
import pytest

from tests.attacks.kit import everything, victim
from tests.fixtures.api import AUTH, ServedApi

NESTED = '{"a":' * 5000 + "1" + "}" * 5000
WIDE = "[" + ",".join(["1"] * 20_000) + "]"
BODIES: dict[str, tuple[bytes, str]] = {
    "nested-json": (NESTED.encode(), "application/json"),
    "wide-array": (WIDE.encode(), "application/json"),
    "huge-number": (
        b'{"contact_id": 1' + b"0" * 5000 + b', "anonymous_id": "a", "url": "https://x/"}',
        "application/json",
    ),
    "huge-float": (b'{"contact_id": 1e999, "accepted": 1e999, "limit": 1e999}', "application/json"),
    "nan": (b'{"contact_id": NaN, "accepted": Infinity}', "application/json"),
    "nul": (
        b'{"email": "a\\u0000@x.example", "anonymous_id": "\\u0000", "consent": {"source": "\\u0000"}}',
        "application/json",
    ),
    "lone-surrogate": (b'{"\\ud800": "\\udfff", "email": "\\ud800@x.example"}', "application/json"),
    "not-utf8": (b'{"email": "\xff\xfe@x.example"}', "application/json"),
    "duplicate-keys": (b'{"anonymous_id": "a", "anonymous_id": {"x": 1}}', "application/json"),
    "array-top": (b"[1, 2, 3]", "application/json"),
    "string-top": (b'"hello"', "application/json"),
    "xml": (b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>", "application/xml"),
    "form": (b"email=a%40x.example&consent=1", "application/x-www-form-urlencoded"),
    "multipart-garbage": (b"--x\r\nContent-Disposition: form-data\r\n\r\n", "multipart/form-data; boundary=x"),
    "text-plain-garbage": (b"\x00\x01\x02", "text/plain"),
    "empty": (b"", "application/json"),
    "weird-charset": (b'{"a": 1}', "application/json; charset=ebcdic"),
    "csv-garbage": (b"\xef\xbb\xbfemail,\x00\r\n" + 'é,"unterminated\n'.encode() * 100, "text/csv"),
}
POSTS = [
    "/contacts",
    "/identify",
    "/track",
    "/webhooks/sendgrid",
    "/journeys/bulk",
    "/imports/contacts",
    "/imports/orders",
    "/handoffs/1/feedback",
    "/broadcasts",
    "/broadcasts/preview",
    "/p/x.y",
    "/u/x.y",
    "/confirm/x.y",
    "/console/login",
    "/console/broadcasts",
]


@pytest.mark.parametrize("name", sorted(BODIES))
async def test_hostile_bodies_get_a_4xx_on_every_post_door(api: ServedApi, name: str) -> None:
    body, content_type = BODIES[name]
    for path in POSTS:
        for auth in ({}, AUTH):
            answer = await api.http.post(path, content=body, headers={"Content-Type": content_type, **auth})
            if answer.status_code == 503 and "Temporal unavailable" in answer.text:
                continue  # the fixture's Temporal is unreachable: the documented retry-later answer, no fault
            assert answer.status_code < 500, (name, path, bool(auth), answer.status_code, answer.text[:300])


HOSTILE_PATHS = [
    "/contacts/99999999999999999999999999/export",
    "/contacts/-1/export",
    "/contacts/0x10/history",
    "/contacts/1e3/stages",
    "/contacts/%00/history",
    "/contacts/%F0%9F%92%A9/export",
    "/handoffs/\u0661/feedback",
    "/journeys/bulk/99999999999999999999999",
    "/journeys/bulk/%00",
    "/broadcasts/99999999999999999999999999",
    "/broadcasts/-5/preview",
    "/leads/top?limit=99999999999999999999",
    "/leads/top?limit=-1",
    "/leads/top?limit=%00",
    "/leads/top?journey=%00&stage=%ED%A0%80",
    "/leads/top?" + "&".join(f"x{i}=1" for i in range(2000)),
    "/console/contacts/99999999999999999999999",
    "/console/contacts?q=%00",
    "/console/contacts?q=%25%5C_%27%22--",
    "/console/contacts?q=99999999999999999999999999",
    "/console/journeys/%00",
    "/console/journeys/" + "a" * 5000,
    "/console/broadcasts/99999999999999999999999",
    "/console/broadcasts?preview=1&item=%00&limit=999999999999999999999",
    "/console/login?next=%00",
    "/console/static/../../../../etc/passwd",
    "/console/static/%2e%2e/%2e%2e/app.py",
    "/p/" + "A" * 20_000,
    "/t/o/%00.gif",
    "/t/c/" + "." * 3000,
]


async def test_hostile_paths_and_queries_get_a_4xx_and_change_nothing(api: ServedApi) -> None:
    from tests.console.conftest import add_console_user, sign_in

    await victim(api)
    add_console_user(api.ctx.engine)
    assert (await sign_in(api.http)).status_code == 303
    before = everything(api.ctx.engine)
    for path in HOSTILE_PATHS:
        for method in ("GET", "HEAD"):
            answer = await api.http.request(method, path, headers=AUTH)
            assert answer.status_code < 500, (method, path[:100], answer.status_code, answer.text[:300])
            assert "root:" not in answer.text
    after = everything(api.ctx.engine)
    # signing in wrote the session row and audit before the snapshot; nothing after it
    assert after == before


HOSTILE_HEADERS: list[dict[str, Any]] = [
    {"Content-Length": "99999999999999999999"},
    {"Content-Type": "application/json; charset=" + "x" * 5000},
    {"Authorization": "Bearer " + "x" * 60_000},
    {"X-Requested-By": "é" * 200},
    {"X-Twilio-Email-Event-Webhook-Timestamp": "9" * 400, "X-Twilio-Email-Event-Webhook-Signature": "%%%"},
    {"X-Twilio-Email-Event-Webhook-Timestamp": "-1", "X-Twilio-Email-Event-Webhook-Signature": "A" * 10_000},
    {"Origin": "\xff" * 10, "Access-Control-Request-Method": "POST"},
    {"Cookie": "nurture_console=" + "\x7f" * 100 + "; nurture_console_signin=%00"},
    {"X-Forwarded-Proto": "javascript", "X-Forwarded-For": "not an ip, ::::"},
    {"User-Agent": "\x7f" * 8000},
]


@pytest.mark.parametrize("index", range(len(HOSTILE_HEADERS)))
async def test_hostile_headers_get_a_4xx(api: ServedApi, index: int) -> None:
    raw = {k: v.encode("latin-1") if isinstance(v, str) else v for k, v in HOSTILE_HEADERS[index].items()}
    for method, path in (
        ("POST", "/track"),
        ("POST", "/webhooks/sendgrid"),
        ("POST", "/contacts"),
        ("GET", "/contacts/1/export"),
        ("DELETE", "/contacts/1?reason=x"),
        ("GET", "/console/journeys"),
        ("POST", "/console/login"),
    ):
        try:
            answer = await api.http.request(method, path, content=b'{"anonymous_id":"a"}', headers=raw)
        except (httpx.LocalProtocolError, h11.LocalProtocolError):  # the client cannot send it (or the server
            # answered 413 before the declared body came): no answer to judge
            continue
        assert answer.status_code < 500, (index, method, path, answer.status_code, answer.text[:300])


async def test_no_get_route_changes_a_row_whatever_its_query(api: ServedApi) -> None:
    """Every GET the app declares (except the tracking pixel and the click redirect, which record engagement by
    design) with the API token, a console session and state-changing-looking queries changes nothing."""
    from tests.console.conftest import add_console_user, sign_in

    contact_id = await victim(api)
    add_console_user(api.ctx.engine)
    assert (await sign_in(api.http)).status_code == 303
    paths: set[str] = set()
    schema = (await api.http.get("/openapi.json")).json()
    for path, ops in schema["paths"].items():
        if "get" in ops and not path.startswith("/t/"):
            paths.add(path)
    paths |= {
        "/console",
        "/console/journeys",
        "/console/contacts",
        f"/console/contacts/{contact_id}",
        "/console/broadcasts",
    }
    before = everything(api.ctx.engine)
    query = "?action=unsubscribe&confirm=1&delete=1&start=1&cancel=1&_method=POST&snooze=90&preview=1"
    for path in sorted(paths):
        concrete = path.replace("{contact_id}", str(contact_id)).replace("{token}", "x.y")
        for segment in ("{broadcast_id}", "{operation_id}", "{handoff_id}", "{journey}"):
            concrete = concrete.replace(segment, "1")
        answer = await api.http.get(concrete + query, headers={**AUTH, "X-HTTP-Method-Override": "DELETE"})
        assert answer.status_code < 500, (concrete, answer.status_code, answer.text[:300])
    assert everything(api.ctx.engine) == before
