"""Pure rules: what each journey listens to, the SendGrid dedupe key, which journeys new opt-ins enter."""

from __future__ import annotations

import json

import pytest

from nurture import workflow_ids
from nurture.inbound.interest import listened, wants
from nurture.inbound.sendgrid_events import parse_batch
from tests.api.payloads import event
from workflows import dsl
from workflows.dsl import journeys_for


def test_every_registered_journey_is_explorable() -> None:
    for key in dsl.REGISTRY:
        assert listened(key) is not None, f"{key}: the probe cannot explore it, so it would hear every event"


def test_journeys_hear_only_what_their_storyboards_wait_for() -> None:
    assert sorted(map(str, listened("b2b_drip") or ())) == ["clicked", "page_view(/pricing*)"]
    assert wants("b2b_drip", "page_view", "https://ledgerline.example/pricing?plan=team")
    assert not wants("b2b_drip", "page_view", "https://ledgerline.example/blog")
    assert not wants("b2b_drip", "opened")
    assert wants("b2c_cultivation", "page_view", "https://greenacre.example/mowers/verdant-900")
    assert wants("unknown-journey", "opened")  # unknown: hears everything rather than nothing


def test_a_redelivery_with_a_new_event_id_has_the_same_dedupe_key() -> None:
    first = event("click", 7, message="abc123")
    again = {**first, "sg_event_id": "different", "sg_message_id": "abc123.filter9999.1.0"}
    other_kind = {**first, "event": "open"}
    other_url = {**first, "url": "https://ledgerline.example/other"}

    keys_ = [p.dedupe_key for p in parse_batch(json.dumps([first, again, other_kind, other_url]).encode()).events]

    assert keys_[0] == keys_[1]
    assert len(set(keys_)) == 3


def test_sendgrids_own_sample_batch_with_one_shared_event_id_keeps_every_kind() -> None:
    kinds = ["processed", "deferred", "delivered", "open", "click", "bounce", "dropped", "spamreport", "unsubscribe"]
    batch = [
        {"email": "example@test.com", "timestamp": 1513299569, "event": k, "sg_event_id": "sg_event_id",
         "sg_message_id": "sg_message_id", "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>", "url": "http://x/"}
        for k in kinds
    ]  # fmt: skip
    batch += [
        {**batch[0], "event": "group_unsubscribe", "asm_group_id": 10},
        {**batch[0], "event": "group_resubscribe", "asm_group_id": 10},
    ]

    parsed = parse_batch(json.dumps(batch).encode()).events

    assert len({p.dedupe_key for p in parsed}) == len(batch)


@pytest.mark.parametrize(
    ("persona", "topics", "journeys"),
    [
        ("finance-lead", [], ["b2b_drip"]),
        ("it-lead", ["security"], ["b2b_drip"]),
        ("homeowner", [], ["b2c_cultivation"]),
        ("general", ["mowers"], ["b2c_cultivation"]),
        ("general", ["automation"], []),
    ],
)
def test_entry_rules(persona: str, topics: list[str], journeys: list[str]) -> None:
    assert journeys_for(persona, topics) == journeys
    assert all(j in dsl.REGISTRY for j in journeys)
    assert workflow_ids.check_key(persona.replace("-", "_"), "persona")
