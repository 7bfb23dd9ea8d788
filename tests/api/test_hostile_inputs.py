"""Hostile bodies, paths and headers get a clear 4xx in the error schema on both databases, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fixtures.api import API_TOKEN, ServedApi

TOKEN = {"Authorization": f"Bearer {API_TOKEN}"}
VIEW = {"anonymous_id": "a", "url": "https://x.example/p"}
DEEP = "[" * 20_000 + "]" * 20_000

# (method, path, JSON body or raw text, headers, expected status)
CASES: dict[str, tuple[str, str, Any, dict[str, Any], int]] = {
    "track-year-1-east-of-utc": ("POST", "/track", {**VIEW, "occurred_at": "0001-01-01T00:00:00+14:00"}, {}, 422),
    "track-year-9999-west-of-utc": ("POST", "/track", {**VIEW, "occurred_at": "9999-12-31T23:59:59-14:00"}, {}, 422),
    "track-before-1970": ("POST", "/track", {**VIEW, "occurred_at": "1969-12-31T23:59:59Z"}, {}, 422),
    "track-lone-surrogate": ("POST", "/track", {**VIEW, "anonymous_id": "\ud800"}, {}, 422),
    "track-surrogate-key": ("POST", "/track", {"\udfff": 1}, {}, 422),
    "track-nul-in-url": ("POST", "/track", {**VIEW, "url": "https://x.example/p\x00"}, {}, 422),
    "track-nul-in-anonymous-id": ("POST", "/track", {**VIEW, "anonymous_id": "a\x00"}, {}, 422),
    "track-deeply-nested": ("POST", "/track", DEEP, {}, 400),
    "track-id-2^31": ("POST", "/track", {**VIEW, "contact_id": 2**31}, TOKEN, 422),
    "track-id-2^70": ("POST", "/track", {**VIEW, "contact_id": 2**70}, TOKEN, 422),
    "track-id-as-string": ("POST", "/track", {**VIEW, "contact_id": "12"}, TOKEN, 422),
    "track-id-arabic-digits": ("POST", "/track", {**VIEW, "contact_id": "١٢"}, TOKEN, 422),
    "identify-huge-id": ("POST", "/identify", {"anonymous_id": "a", "contact_id": 2**40}, TOKEN, 422),
    "identify-lone-surrogate": ("POST", "/identify", {"anonymous_id": "\ud800"}, {}, 422),
    "contacts-lone-surrogate-email": ("POST", "/contacts", {"email": "\ud800@x.example"}, {}, 422),
    "history-id-2^40": ("GET", f"/contacts/{2**40}/history", None, TOKEN, 422),
    "history-id-2^64": ("GET", f"/contacts/{2**64}/history", None, TOKEN, 422),
    "history-arabic-digits": ("GET", "/contacts/١٢/history", None, TOKEN, 422),
    "history-underscore": ("GET", "/contacts/1_000/history", None, TOKEN, 422),
    "history-plus": ("GET", "/contacts/+12/history", None, TOKEN, 422),
    "history-space": ("GET", "/contacts/%2012/history", None, TOKEN, 422),
    "handoff-id-2^40": ("POST", f"/handoffs/{2**40}/feedback", {"accepted": True}, TOKEN, 422),
    "broadcast-invalid-utf8": ("GET", "/broadcasts/%ED%A0%80", None, TOKEN, 404),
    "broadcasts-deeply-nested": ("POST", "/broadcasts", DEEP, TOKEN, 400),
    "click-invalid-utf8": ("GET", "/t/c/%ED%A0%80", None, {}, 403),
    "unsubscribe-nul": ("GET", "/u/%00", None, {}, 403),
    "confirm-invalid-utf8": ("GET", "/confirm/%ED%A0%80", None, {}, 403),
    "unknown-path": ("GET", "/nowhere", None, {}, 404),
    "wrong-method": ("DELETE", "/track", None, {}, 405),
    "bearer-latin-1-whitespace": ("GET", "/broadcasts", None, {"Authorization": b"Bearer \xa0\x85"}, 401),
    "bearer-invalid-utf8": ("GET", "/broadcasts", None, {"Authorization": b"Bearer \xff\xfe"}, 401),
}


@pytest.mark.parametrize("name", list(CASES))
async def test_hostile_input_gets_a_clear_answer_in_the_error_schema(api: ServedApi, name: str) -> None:
    method, path, body, headers, expected = CASES[name]
    content = None
    if body is not None:
        text = body if isinstance(body, str) else json.dumps(body)
        content = text.encode("utf-8", "surrogatepass")
        headers = {**headers, "Content-Type": "application/json"}

    response = await api.http.request(method, path, content=content, headers=headers)

    assert response.status_code == expected, response.text
    if expected >= 400 and response.headers.get("content-type", "").startswith("application/json"):
        assert isinstance(response.json()["error"], str) and response.json()["error"]
