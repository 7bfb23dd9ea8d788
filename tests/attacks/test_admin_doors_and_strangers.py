"""Attacks on the admin doors (bearer variants) and on what a stranger who knows an email address can learn."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.attacks.kit import VICTIM, everything, victim
from tests.fixtures.api import API_TOKEN, AUTH, ServedApi

ADMIN_DOORS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/broadcasts", None),
    ("POST", "/broadcasts", {}),
    ("POST", "/journeys/bulk", {}),
    ("GET", "/leads/top", None),
    ("POST", "/imports/contacts", None),
    ("POST", "/handoffs/1/feedback", {"accepted": True}),
    ("GET", "/contacts/1/export", None),
    ("DELETE", "/contacts/1?reason=attack", None),
    ("GET", "/contacts/1/history", None),
    ("GET", "/contacts/1/stages", None),
]

BEARERS: list[bytes | None] = [
    None,
    b"",
    b"Bearer",
    b"Bearer ",
    b"Bearer  ",
    b"Bearer \t",
    b"Bearer \xa0",
    "Bearer \u2003\u200b\ufeff".encode(),
    b"Bearer " + API_TOKEN.encode() + b" ",
    b"Bearer  " + API_TOKEN.encode(),
    b"Bearer " + API_TOKEN.upper().encode(),
    b"Bearer " + API_TOKEN[:-1].encode(),
    b"Bearer " + API_TOKEN.encode() + b"\x00",
    b"Basic " + API_TOKEN.encode(),
    API_TOKEN.encode(),
    b"Bearer " + API_TOKEN.encode() + b", Bearer x",
]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_DOORS)
async def test_admin_doors_refuse_every_bearer_but_the_configured_bytes(
    api: ServedApi, method: str, path: str, body: dict[str, Any] | None
) -> None:
    await victim(api)
    before = everything(api.ctx.engine)
    for bearer in BEARERS:
        headers = {} if bearer is None else {"Authorization": bearer}
        try:
            answer = await api.http.request(method, path, json=body, headers=headers)
        except httpx.LocalProtocolError:  # the client itself refuses to send it (a NUL): nothing to attack
            continue
        assert answer.status_code in (401, 403), (method, path, bearer, answer.status_code, answer.text[:200])
        assert "error" in answer.json()
    assert everything(api.ctx.engine) == before


def comparable(answer: httpx.Response) -> tuple[int, Any, list[tuple[str, str]]]:
    headers = sorted((k, v) for k, v in answer.headers.multi_items() if k not in ("date", "content-length"))
    return answer.status_code, answer.json(), headers


async def test_the_public_opt_in_answers_the_same_for_a_known_unknown_and_respelled_address(api: ServedApi) -> None:
    await victim(api)
    seen = []
    for email in (VICTIM, VICTIM.upper(), f"  {VICTIM}  ", "nobody@ledgerline.example"):
        for double in (False, True):
            body = {"email": email, "consent": {"source": "https://evil.example"}, "double_opt_in": double}
            answer = await api.http.post("/contacts", json=body)
            assert "set-cookie" not in answer.headers
            assert "contact_id" not in answer.text and "token" not in answer.text
            seen.append((double, comparable(answer)))
    for double in (False, True):
        assert len({repr(c) for d, c in seen if d is double}) == 1, seen
    from sqlalchemy import text

    with api.ctx.engine.connect() as conn:  # a respelled address is the same contact, never a second one
        n = conn.execute(text("select count(*) from contact where lower(email) = :e"), {"e": VICTIM}).scalar_one()
    assert n == 1


async def test_refusals_for_a_known_and_an_unknown_contact_id_look_the_same(api: ServedApi) -> None:
    known = await victim(api)
    unknown = known + 1000
    before = everything(api.ctx.engine)
    probes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/contacts/{}/history", None),
        ("GET", "/contacts/{}/export", None),
        ("DELETE", "/contacts/{}?reason=x", None),
        ("GET", "/contacts/{}/stages", None),
        ("POST", "/track", {"contact_id": "{}", "url": "https://x.example/"}),
        ("POST", "/identify", {"contact_id": "{}", "anonymous_id": "a"}),
        ("POST", "/handoffs/{}/feedback", {"accepted": False}),
    ]
    for method, template, body in probes:
        answers = []
        for cid in (known, unknown):
            payload = None if body is None else {k: cid if v == "{}" else v for k, v in body.items()}
            answer = await api.http.request(method, template.format(cid), json=payload)
            assert answer.status_code in (401, 403), (template, answer.status_code, answer.text)
            answers.append(comparable(answer))
        assert answers[0] == answers[1], (template, answers)
    assert everything(api.ctx.engine) == before


async def test_identify_and_track_take_no_email_as_proof(api: ServedApi) -> None:
    await victim(api)
    before = everything(api.ctx.engine)
    answers = []
    for email in (VICTIM, "nobody@ledgerline.example"):
        for path, body in (
            ("/identify", {"anonymous_id": "a1", "email": email}),
            ("/track", {"anonymous_id": "a1", "url": "https://x.example/", "email": email}),
            ("/identify", {"anonymous_id": "a1", "contact_token": email}),
        ):
            answer = await api.http.post(path, json=body)
            assert answer.status_code in (403, 422), answer.text
            answers.append(repr((path, comparable(answer))).replace(email, "EMAIL"))
    assert answers[:3] == answers[3:], answers
    assert everything(api.ctx.engine) == before


async def test_cors_headers_only_for_configured_origins_and_only_on_the_browser_doors(api: ServedApi) -> None:
    api.ctx.settings.cors_allowed_origins = ["https://site.example"]
    view = {"anonymous_id": "a", "url": "https://site.example/p"}
    for origin in ("https://evil.example", "https://site.example.evil.example", "null", "https://SITE.example"):
        for method in ("OPTIONS", "POST"):
            headers = {"Origin": origin, "Access-Control-Request-Method": "POST"}
            answer = await api.http.request(method, "/track", json=view, headers=headers)
            assert "access-control-allow-origin" not in answer.headers, (origin, method)
            assert "access-control-allow-credentials" not in answer.headers
    good = await api.http.post("/track", json=view, headers={"Origin": "https://site.example"})
    assert good.headers["access-control-allow-origin"] == "https://site.example"
    assert "access-control-allow-credentials" not in good.headers
    for path in ("/contacts", "/contacts/1/export", "/console/login", "/broadcasts"):
        answer = await api.http.get(path, headers={"Origin": "https://site.example", **AUTH})
        assert "access-control-allow-origin" not in answer.headers, path
