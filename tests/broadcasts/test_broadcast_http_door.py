"""The HTTP door: a missing or wrong bearer token is refused, no configured token closes the door, and with
the token the same service creates, previews, starts and reports broadcasts (with clear errors)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric import ec
from sqlmodel import func, select

from nurture.context import AppContext
from nurture.db import Broadcast
from nurture.db.engine import session_scope
from tests.broadcasts.rig import Rig, worker
from tests.fixtures.api import API_TOKEN, ServedApi, api_settings, free_port, served_api

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
CREATE = {"item_id": "bc-einvoicing-2027", "audience": {"journeys": ["b2b_drip"]}}


def _broadcasts(api: ServedApi) -> int:
    with session_scope(api.ctx.engine) as s:
        return int(s.exec(select(func.count()).select_from(Broadcast)).one())


async def test_missing_or_wrong_token_is_refused_and_nothing_is_created(api: ServedApi) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer not-the-token"},
        {"Authorization": API_TOKEN},
        {"Authorization": "Bearer"},
    ):
        listed = await api.http.get("/broadcasts", headers=headers)
        assert listed.status_code == 401, headers
        assert listed.headers["www-authenticate"].startswith("Bearer")
        created = await api.http.post("/broadcasts", json=CREATE, headers=headers)
        assert created.status_code == 401
        assert "bearer token" in created.json()["error"]
        for path in ("/broadcasts/x", "/broadcasts/x/start", "/broadcasts/x/cancel"):
            response = await (api.http.get(path) if path == "/broadcasts/x" else api.http.post(path))
            assert response.status_code == 401
    assert _broadcasts(api) == 0

    ok = await api.http.get("/broadcasts", headers=AUTH)
    assert (ok.status_code, ok.json()) == (200, [])
    unknown = await api.http.post("/broadcasts", json={**CREATE, "item_id": "no-such-item"}, headers=AUTH)
    assert unknown.status_code == 422
    assert "unknown content item 'no-such-item'" in unknown.json()["error"]
    missing = await api.http.get("/broadcasts/nope", headers=AUTH)
    assert missing.status_code == 404


async def test_with_no_token_configured_the_door_is_closed(
    api: ServedApi, webhook_key: tuple[ec.EllipticCurvePrivateKey, str]
) -> None:
    closed = api_settings(free_port(), webhook_key[1], api_token=None)
    async with served_api(AppContext(closed, api.ctx.engine, api.ctx.client), webhook_key[0]) as door:
        for headers in ({}, AUTH, {"Authorization": "Bearer"}):
            response = await door.http.get("/broadcasts", headers=headers)
            assert response.status_code == 503
            assert "closed" in response.json()["error"]


async def test_create_preview_start_and_follow_a_broadcast_over_http(
    rig: Rig, webhook_key: tuple[ec.EllipticCurvePrivateKey, str]
) -> None:
    settings = api_settings(
        free_port(), webhook_key[1], task_queue=rig.settings.task_queue, min_gap_between_drops=timedelta(seconds=1)
    )
    rig.settings = settings
    contacts = [rig.contact("finance-lead", ["compliance"]), rig.contact("it-lead", ["security"])]
    audience = {"journeys": ["b2b_drip"], "contact_ids": contacts}
    async with worker(rig), served_api(AppContext(settings, rig.engine, rig.client), webhook_key[0]) as api:
        for cid in contacts:
            await rig.enroll(cid, "b2b_drip")
        await rig.until(lambda: len(rig.sent_touches(contacts)) == 2, what="first drops")
        await asyncio.sleep(0.6)

        bad = await api.http.post("/broadcasts/preview", json={"where": "NoSuchAttribute = 'x'"}, headers=AUTH)
        assert bad.status_code == 422
        assert "refused the audience query" in bad.json()["error"]
        preview = await api.http.post("/broadcasts/preview?sample=5", json=audience, headers=AUTH)
        assert preview.status_code == 200
        assert preview.json()["count"] == 2

        body = {**CREATE, "audience": audience, "id": f"http-{rig.base}"}
        created = await api.http.post("/broadcasts", json=body, headers={**AUTH, "On-Behalf-Of": "alice"})
        assert created.status_code == 201, created.text
        assert created.json()["created_by"] == "api-token (alice)"
        again = await api.http.post("/broadcasts", json=body, headers=AUTH)
        assert again.status_code == 409

        started = await api.http.post(f"/broadcasts/{body['id']}/start", json={"concurrency": 4}, headers=AUTH)
        assert started.status_code == 202

        async def finished() -> dict[str, object] | None:
            got = (await api.http.get(f"/broadcasts/{body['id']}", headers=AUTH)).json()
            return got if got["finished"] else None

        status = await rig.until(finished, what="the broadcast to finish")
        assert (status["state"], status["signalled"], status["acted"], status["skipped"]) == ("completed", 2, 1, 1)
        assert status["skip_reasons"] == [{"reason": "no shared topic (compliance)", "count": 1}]
        restart = await api.http.post(f"/broadcasts/{body['id']}/start", headers=AUTH)
        assert restart.status_code == 409
        assert "runs once" in restart.json()["error"]
