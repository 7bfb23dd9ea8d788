"""Overlapping deliveries (re-sent with new sg_event_ids while the first is still being stored) never deadlock."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from nurture.db import Contact, Event
from nurture.inbound.sendgrid_events import parse_batch
from tests.api.payloads import add_contact, event
from tests.fixtures.api import ServedApi

KINDS = ("delivered", "open", "click", "deferred", "unsubscribe", "bounce", "processed")


def _redelivered(ev: dict[str, Any]) -> dict[str, Any]:
    return {**ev, "sg_event_id": base64.b64encode(secrets.token_bytes(16)).decode()}


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_sixteen_concurrent_overlapping_batches_all_succeed_and_store_each_event_once(
    api: ServedApi, engine: Engine
) -> None:
    contacts = [add_contact(engine, f"c{i}@example.com", journeys=("b2b_drip",)) for i in range(12)]
    pool = [
        event(KINDS[(cid * 5 + n) % len(KINDS)], cid, message=f"m{cid}x{n}")
        for cid in contacts
        for n in range(12)
    ]  # fmt: skip
    batches = []
    for b in range(16):  # each batch overlaps the others, in its own (pseudo-random) order
        chosen = sorted(pool, key=lambda ev: hashlib.sha256(f"{b}|{ev['sg_message_id']}".encode()).digest())[:90]
        batches.append(json.dumps([_redelivered(ev) for ev in chosen]).encode())
    unique = {ev.dedupe_key for body in batches for ev in parse_batch(body).events}

    responses = await asyncio.gather(*(api.post_events(body) for body in batches))

    assert [r.status_code for r in responses] == [200] * 16, [r.text for r in responses if r.status_code != 200]
    assert api.count(Event) == len(unique)
    assert sum(r.json()["stored"] for r in responses) == len(unique)
    suppressed = {ev[k] for ev in pool for k in ("nurture_contact_id",) if ev["event"] in ("unsubscribe", "bounce")}
    assert api.count(Contact, status="suppressed") == len(suppressed)
