"""Dedupe keys of SendGrid events stay what they were when stored: a re-delivery must hit the stored key.

The expected keys were computed by the parser as it stood before the ingest path was reworked for speed (issue 12);
any change to the key's form (or to the address and message normalisation in it) fails here. Both parser paths are
covered: the typed fast path and the pydantic model (a string timestamp, fields given by their Python names).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from nurture.inbound.sendgrid_events import _EVENT, dedupe_key, parse_batch

# (event as posted, its key, normalised address, contact id, machine open)
STORED: list[tuple[dict[str, Any], str, str | None, int | None, bool]] = [
    (
        {
            "event": "open",
            "timestamp": 1764000000,
            "email": "  Ann@Example.COM ",
            "sg_message_id": "abc123.filter1.0",
            "nurture_contact_id": "17",
        },
        "sg:opened:4773c5d4446d1db0a6daf00925b218f537d83dfb",
        "ann@example.com",
        17,
        False,
    ),
    (
        {
            "event": "click",
            "timestamp": 1764000001,
            "email": "ann@example.com",
            "sg_message_id": "abc123.filter2.5",
            "url": "https://x.example/a?b=1",
            "nurture_contact_id": 17,
        },
        "sg:clicked:52658572c1feab102804c36799ee6a3f5d21ba76",
        "ann@example.com",
        17,
        False,
    ),
    (
        {
            "event": "deferred",
            "timestamp": 1764000002,
            "email": "b@example.com",
            "smtp-id": "<m1@ismtpd>",
            "attempt": "3",
        },
        "sg:deferred:33f2913af035208c8cf2a93e499745c2caf438b1",
        "b@example.com",
        None,
        False,
    ),
    (
        {
            "event": "deferred",
            "timestamp": 1764000002,
            "email": "b@example.com",
            "smtp-id": "<m1@ismtpd>",
            "attempt": 4,
        },
        "sg:deferred:8095cee79d5baedc0c14d848fabf66212cb00c63",
        "b@example.com",
        None,
        False,
    ),
    (
        {
            "event": "bounce",
            "timestamp": 1764000003,
            "email": "c@example.com",
            "sg_message_id": "m2",
            "type": "blocked",
        },
        "sg:bounce:549857862338fbdde7f10cacc43151f57bc42899",
        "c@example.com",
        None,
        False,
    ),
    (
        {
            "event": "group_unsubscribe",
            "timestamp": 1764000004,
            "email": "d@example.com",
            "sg_message_id": "m3",
            "asm_group_id": 42,
        },
        "sg:group_unsubscribe:ea12ffde83045fb7e42643b5e0b94f5e5f62736e",
        "d@example.com",
        None,
        False,
    ),
    (
        {"event": "account_status_change", "timestamp": 1764000005, "type": "compliance_suspend"},
        "sg:account_status_change:23922d358422420452a5d5f7bf26936f57c8b530",
        None,
        None,
        False,
    ),
    (
        {"event": "processed", "timestamp": 0},
        "sg:processed:90eeb335594c256de3a6d248c6cc14d02460051e",
        None,
        None,
        False,
    ),
    (
        {"event": "delivered", "timestamp": 1764000006, "email": "   ", "sg_message_id": "m4"},
        "sg:delivered:5db161b08c45d1f1d2beeb99470e4b959f014beb",
        "",
        None,
        False,
    ),
    (
        {"event": "open", "timestamp": "1764000007", "email": "e@example.com", "sg_message_id": "m5"},
        "sg:opened:5a436947e51043979c36e96bc525b36045a373de",
        "e@example.com",
        None,
        False,
    ),
    (
        {
            "event": "spamreport",
            "timestamp": 1764000008,
            "email": "F@example.com",
            "smtp_id": "<m6@x>",
            "contact_id": 5,
        },
        "sg:spamreport:524960b48185a2ea7280eaf57343060210c49730",
        "f@example.com",
        5,
        False,
    ),
    (
        {
            "event": "dropped",
            "timestamp": 1764000009,
            "email": "g@example.com",
            "sg_message_id": "",
            "smtp-id": "<m7@x>",
        },
        "sg:dropped:e07b56c7abb73578c5fe724668d02fb7d27acf8f",
        "g@example.com",
        None,
        False,
    ),
    (
        {
            "event": "open",
            "timestamp": 1764000010,
            "email": "ann@example.com",
            "sg_message_id": "abc123.filter1.0",
            "nurture_contact_id": "17",
            "sg_machine_open": True,
        },
        "sg:opened:855d62a0fbe824c986a11388fc93c2c01739a837",
        "ann@example.com",
        17,
        True,
    ),
]


@pytest.mark.parametrize(("raw", "key", "email", "contact_id", "machine"), STORED)
def test_a_stored_key_is_the_key_a_redelivery_gets(
    raw: dict[str, Any], key: str, email: str | None, contact_id: int | None, machine: bool
) -> None:
    (parsed,) = parse_batch(json.dumps([raw]).encode()).events
    assert (parsed.dedupe_key, parsed.email, parsed.contact_id, parsed.machine) == (key, email, contact_id, machine)
    assert dedupe_key(_EVENT.validate_python(raw)) == key  # the model's fields give the same key


def test_one_batch_gives_each_event_its_stored_key() -> None:
    parsed = parse_batch(json.dumps([raw for raw, *_ in STORED]).encode()).events  # addresses memoised per batch
    assert [p.dedupe_key for p in parsed] == [key for _, key, *_ in STORED]
