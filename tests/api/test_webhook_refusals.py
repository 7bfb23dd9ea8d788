"""Forged, stale or unsigned posts are refused with 403, bodies that are not event arrays with 400: nothing stored."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from temporalio.client import Client

from nurture.api import limits
from nurture.clock import utcnow
from nurture.context import AppContext
from nurture.db import Contact, RejectedEvent, SignalOutbox
from nurture.db.engine import make_engine
from nurture.inbound import signature
from tests.api.payloads import add_contact, event
from tests.fixtures.api import ServedApi, api_settings, free_port, served_api


async def test_forged_stale_and_missing_signatures_are_refused_with_nothing_stored(
    api: ServedApi, engine: Engine
) -> None:
    cid = add_contact(engine, "target@example.com", journeys=("b2b_drip",))
    body = json.dumps([event("unsubscribe", cid)]).encode()
    forger, _ = signature.generate_key()
    good = signature.signed_headers(api.key, body, utcnow())
    tampered = json.dumps([event("unsubscribe", cid + 1)]).encode()

    attempts = {
        "forged": await api.post_events(body, key=forger),
        "stale": await api.post_events(body, at=utcnow() - timedelta(hours=1)),
        "future": await api.post_events(body, at=utcnow() + timedelta(hours=1)),
        "unsigned": await api.http.post("/webhooks/sendgrid", content=body),
        "tampered": await api.http.post("/webhooks/sendgrid", content=tampered, headers=good),
        "garbage": await api.http.post(
            "/webhooks/sendgrid",
            content=body,
            headers={**good, signature.SIGNATURE_HEADER: "not base64!"},
        ),
    }

    for name, response in attempts.items():
        assert response.status_code == 403, (name, response.text)
        assert response.json()["error"], name
    assert "stale" in attempts["stale"].json()["error"]
    assert api.count() == 0
    assert api.count(RejectedEvent) == 0
    assert api.count(SignalOutbox) == 0
    assert api.count(Contact, status="suppressed") == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'[{"event": "open",', "not valid JSON"),
        (b'{"event": "open"}', "JSON array"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
        (b"", "not valid JSON"),
    ],
    ids=["truncated", "object", "nested-100k-deep", "empty"],
)
async def test_a_body_that_is_not_an_event_array_is_refused_whole(api: ServedApi, body: bytes, message: str) -> None:
    response = await api.post_events(body)

    assert response.status_code == 400, response.text
    assert message in response.json()["error"]
    assert api.count() == 0
    assert api.count(RejectedEvent) == 0


async def test_an_oversized_body_is_refused_before_it_is_read(api: ServedApi) -> None:
    limit = api.ctx.settings.webhook_max_body_bytes
    body = b"[" + b" " * limit + b"]"

    response = await api.post_events(body)

    assert response.status_code == 413
    assert "larger than" in response.json()["error"]
    assert api.count() == 0


async def test_a_full_size_sendgrid_batch_is_accepted(api: ServedApi, engine: Engine) -> None:
    cid = add_contact(engine, "busy@example.com")
    batch = [event("delivered", cid, message=f"msg{i}") for i in range(1000)]

    response = await api.post_events(batch)

    assert response.status_code == 200, response.text
    assert api.count() == 1000


async def test_without_a_configured_key_every_post_is_refused(engine: Engine) -> None:
    private, _ = signature.generate_key()
    settings = api_settings(free_port(), "")
    settings.sendgrid_webhook_public_key = None
    client = await Client.connect("127.0.0.1:9", lazy=True)
    async with served_api(AppContext(settings, engine, client), private) as api:
        response = await api.post_events([event("delivered", 1)])

    assert response.status_code == 403
    assert "NURTURE_SENDGRID_WEBHOOK_PUBLIC_KEY" in response.json()["error"]


async def test_an_unreachable_database_answers_503_so_sendgrid_retries(
    webhook_key: tuple[object, str],
) -> None:
    private, public = webhook_key
    dead = make_engine(f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere", pool_pre_ping=False)
    settings = api_settings(free_port(), public)
    client = await Client.connect("127.0.0.1:9", lazy=True)
    try:
        async with served_api(AppContext(settings, dead, client), private) as api:  # type: ignore[arg-type]
            response = await api.post_events([event("delivered", 1)])
    finally:
        dead.dispose()

    assert response.status_code == 503
    assert "retry" in response.json()["error"]


def test_a_malformed_public_key_is_refused_at_startup() -> None:
    with pytest.raises(ValueError, match="public key"):
        signature.load_public_key("bm90IGEga2V5")


async def _stalled_upload(
    api: ServedApi, sent: bytes, length: int
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A stranger's upload (no key) over a raw socket: headers promising `length` bytes, then only `sent`."""
    host, port = api.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    head = f"POST /webhooks/sendgrid HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
    writer.write(f"{head}Content-Length: {length}\r\n\r\n".encode() + sent)
    await writer.drain()
    return reader, writer


async def _status(reader: asyncio.StreamReader) -> int:
    return int((await reader.readline()).split()[1])


async def test_slow_uploads_cannot_shut_the_webhook_and_each_has_a_deadline(
    api: ServedApi, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The webhook's bound counts bytes held, not requests: uploads that trickle a few bytes hold nothing a real
    batch needs, and each must finish within the read deadline (408), so idle sockets cannot keep the door."""
    monkeypatch.setattr(limits, "LARGE_BODY_READ_SECONDS", 2.0)
    cid = add_contact(engine, "target@example.com", journeys=("b2b_drip",))
    stalled = [await _stalled_upload(api, b'[{"event": "open", ', 100_000) for _ in range(12)]
    stored = await api.post_events([event("click", cid)])
    assert stored.status_code == 200, stored.text  # not held back by them
    statuses = [await asyncio.wait_for(_status(reader), 10) for reader, _ in stalled]
    assert statuses == [408] * 12  # the deadline ends each, not the sender
    for _, writer in stalled:
        writer.close()
    assert api.count() == 1
    await _budget_holds(
        api, json.dumps([event("open", cid)]).encode(), monkeypatch
    )  # each 408 gave its bytes back once


async def _budget_holds(api: ServedApi, batch: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a budget of 400 bytes plus half the batch, a stalled 400-byte upload gets the batch a 503 (nothing
    stored) until its connection drops; then the batch is stored. Run twice, or after other ways out, it also
    shows the budget was given back exactly: a leak fails the second half, a double give-back the first."""
    monkeypatch.setattr(limits, "LARGE_BODY_BUDGET_BYTES", 400 + len(batch) // 2)
    stored_before = api.count()
    _, hog = await _stalled_upload(api, b"[" + b" " * 399, 100_000)  # 400 bytes held, and waiting
    for _ in range(50):  # until the server has read the hog's bytes
        refused = await api.post_events(batch)
        if refused.status_code == 503:
            break
        await asyncio.sleep(0.1)
    assert refused.status_code == 503, refused.text
    assert refused.headers["retry-after"] == str(limits.BUSY_RETRY_SECONDS)
    assert api.count() == stored_before
    hog.close()
    await hog.wait_closed()
    for _ in range(50):  # the server notices the drop and gives the hog's bytes back
        stored = await api.post_events(batch)
        if stored.status_code != 503:
            break
        await asyncio.sleep(0.1)
    assert stored.status_code == 200, stored.text


async def test_the_webhook_holds_at_most_its_budget_of_bodies_at_once(
    api: ServedApi, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stranger needs no key to send a body, and each is held before its signature can be checked: past the
    door's budget of bytes held at once a request gets 503 with Retry-After, nothing stored; once the budget frees
    (the hog's connection drops), a real batch is stored, and the budget is whole again after it."""
    cid = add_contact(engine, "target@example.com", journeys=("b2b_drip",))
    await _budget_holds(api, json.dumps([event("click", cid)]).encode(), monkeypatch)
    await _budget_holds(api, json.dumps([event("open", cid)]).encode(), monkeypatch)
    assert api.count() == 2
