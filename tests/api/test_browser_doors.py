"""CORS for /track and /identify from configured origins only, and navigator.sendBeacon (text/plain) bodies."""

from __future__ import annotations

import json

from sqlalchemy.engine import Engine

from nurture.db import Event, Visitor
from tests.api.payloads import add_contact
from tests.fixtures.api import API_TOKEN, ServedApi

SHOP = "https://shop.example"
PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
VIEW = {"anonymous_id": "anon-cors", "url": "https://shop.example/pricing"}


async def test_no_origin_is_allowed_by_default(api: ServedApi) -> None:
    preflight = await api.http.options("/track", headers={"Origin": SHOP, **PREFLIGHT})
    post = await api.http.post("/track", json=VIEW, headers={"Origin": SHOP})

    assert preflight.status_code == 403
    assert "origin" in preflight.json()["error"]
    assert "access-control-allow-origin" not in preflight.headers
    assert post.status_code == 200  # CORS is not authentication: only the browser's reading of it is refused
    assert "access-control-allow-origin" not in post.headers


async def test_configured_origins_may_call_the_browser_doors_and_no_other(api: ServedApi) -> None:
    api.ctx.settings.cors_allowed_origins = [SHOP]

    preflight = await api.http.options("/identify", headers={"Origin": SHOP, **PREFLIGHT})
    post = await api.http.post("/track", json=VIEW, headers={"Origin": SHOP})
    refused = await api.http.post("/track", json=VIEW, headers={"Origin": "https://evil.example"})
    error = await api.http.post("/track", json={"url": "x"}, headers={"Origin": SHOP})
    admin = await api.http.options("/broadcasts", headers={"Origin": SHOP, **PREFLIGHT})

    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == SHOP
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert post.status_code == 200 and post.headers["access-control-allow-origin"] == SHOP
    assert "access-control-allow-origin" not in refused.headers
    assert error.status_code == 422 and error.headers["access-control-allow-origin"] == SHOP  # errors are readable
    assert "access-control-allow-origin" not in admin.headers  # only the browser doors


async def test_send_beacon_text_plain_bodies_are_accepted_on_track_and_identify(api: ServedApi, engine: Engine) -> None:
    cid = add_contact(engine, "beacon@example.com", journeys=("b2b_drip",))
    text = {"Content-Type": "text/plain;charset=UTF-8"}

    tracked = await api.http.post("/track", content=json.dumps(VIEW).encode(), headers=text)
    identified = await api.http.post(
        "/identify",
        content=json.dumps({"anonymous_id": "anon-cors", "contact_id": cid}).encode(),
        headers={**text, "Authorization": f"Bearer {API_TOKEN}"},
    )
    garbage = await api.http.post("/track", content=b"not json", headers=text)

    assert tracked.status_code == 200, tracked.text
    assert identified.status_code == 200, identified.text
    assert api.count(Event, kind="page_view", contact_id=cid) == 1
    assert api.count(Visitor, contact_id=cid) == 1
    assert garbage.status_code == 400
    assert "JSON" in garbage.json()["error"]
