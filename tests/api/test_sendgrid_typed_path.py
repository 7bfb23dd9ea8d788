"""The cheap typed path accepts only what the pydantic model accepts, with the same values; orjson never changes
what a body means."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from nurture.inbound.sendgrid_events import _EVENT, KINDS, _fields_of, parse_batch
from nurture.inbound.sendgrid_typed import typed_fields

ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.sampled_from([0, 1, 2**31 - 1, 2**31, 253_402_300_799, 253_402_300_800, 10**20]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=70),
    st.sampled_from(["12", "0", "-3", "abc", "²", "1.5", " 7", "true", "j" * 64, "j" * 65]),
    st.lists(st.integers(), max_size=2),
)
FIELDS = [
    "event", "timestamp", "email", "sg_event_id", "sg_message_id", "smtp-id", "url", "type", "sg_machine_open",
    "asm_group_id", "attempt", "nurture_contact_id", "nurture_journey", "nurture_item_id", "contact_id",
    "smtp_id", "journey", "item_id", "reason",
]  # fmt: skip


@st.composite
def events(draw: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "event": draw(st.one_of(st.sampled_from(list(KINDS)), ANY_VALUE)),
        "timestamp": draw(st.one_of(st.integers(min_value=0, max_value=2_000_000_000), ANY_VALUE)),
    }
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=6, unique=True)):
        item[name] = draw(ANY_VALUE)
    if draw(st.booleans()):
        item.pop(draw(st.sampled_from(["event", "timestamp"])))
    return item


@settings(max_examples=600, deadline=None)
@given(events())
def test_the_typed_path_accepts_only_what_the_model_accepts_and_reads_the_same_values(item: dict[str, Any]) -> None:
    fast = typed_fields(item, KINDS)
    try:
        model = _fields_of(_EVENT.validate_python(item))
    except ValidationError:
        assert fast is None, item
        return
    assert fast is None or fast == model, (item, fast, model)


def test_a_well_formed_event_takes_the_typed_path() -> None:
    item = {
        "event": "click", "timestamp": 1_700_000_000, "email": "a@b.c", "sg_message_id": "m.filter.0",
        "url": "https://x.example/", "sg_machine_open": False, "nurture_contact_id": "12",
        "nurture_journey": "b2b_drip", "nurture_item_id": "item", "attempt": "1", "asm_group_id": 3,
    }  # fmt: skip
    assert typed_fields(item, KINDS) == _fields_of(_EVENT.validate_python(item))


def test_integers_beyond_64_bits_keep_their_value() -> None:
    """orjson reads them as floats: a body with a 19-digit number takes the standard parser."""
    body = json.dumps([{"event": "bounce", "timestamp": 1, "email": "a@b.c", "tls": 10**20}]).encode()
    (ev,) = parse_batch(body).events
    assert ev.data["tls"] == 10**20 and isinstance(ev.data["tls"], int)


def test_orjson_and_the_standard_parser_give_the_same_batch() -> None:
    events = [
        {"event": "open", "timestamp": 1_700_000_000 + i, "email": f"C{i}@X.example ", "sg_machine_open": i % 2 == 0,
         "nurture_contact_id": str(i + 1), "category": ["a", "é"], "useragent": "Mozilla \u2603"}
        for i in range(30)
    ]  # fmt: skip
    fast = parse_batch(json.dumps(events, ensure_ascii=False).encode())
    slow = parse_batch(json.dumps([*events, {"event": "open", "timestamp": 1, "x": float("nan")}]).encode())
    assert fast.events == slow.events and not fast.rejected and len(slow.rejected) == 1
