"""The daily digest: an owner's top leads in rank order and who went cold, signed to the CRM webhook."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import httpx
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from nurture.config import Settings
from nurture.lifecycle.digest import Channel, build_digests, deliver
from nurture.lifecycle.leads import refresh_lead
from nurture.lifecycle.routing import OwnerSpec, assign_owner, upsert_owner
from nurture.lifecycle.stages import move_stage
from tests.activities.receiver import Receiver
from tests.lifecycle.helpers import T0, add_contact, add_event
from workflows.lifecycle import ActorKind

NOW = T0 + timedelta(days=40)


def test_digest_lists_top_leads_and_cold_ones_and_is_signed_for_the_crm(engine: Engine) -> None:
    with engine.begin() as conn:
        upsert_owner(conn, OwnerSpec("amy", "americas", name="Amy", email="amy@crm.test"), T0)
        upsert_owner(conn, OwnerSpec("bob", "emea"), T0)
        hot = add_contact(conn, "hot@example.com", role="VP Sales", country="US")
        cold = add_contact(conn, "cold@example.com", country="US")
        add_event(conn, hot, "page_view", NOW - timedelta(days=1), "https://x.example/pricing")
        add_event(conn, cold, "clicked", NOW - timedelta(days=30))
        for cid in (hot, cold):
            move_stage(conn, cid, "mql", actor=ActorKind.JOURNEY, actor_id="wf", why="ready", now=T0)
            assign_owner(conn, cid, T0)
            refresh_lead(conn, cid, NOW)
    [amy, bob] = build_digests(engine, NOW)
    assert [v.contact_id for v in amy.top] == [hot, cold] and [v.contact_id for v in amy.cold] == [cold]
    assert bob.top == () and "Top leads:\n  none" in bob.text()
    assert "recent pricing page" in amy.text() and "last engaged 2026-03-12" in amy.text()

    settings = Settings(_env_file=None, crm_webhook_url="", crm_webhook_secret=SecretStr("s3cret-digest"))  # type: ignore[call-arg]
    with httpx.Client() as http:
        assert deliver(amy, settings, http, NOW) is Channel.NONE  # nothing configured: the CLI prints it
        with Receiver() as crm:
            settings.crm_webhook_url = f"{crm.url}/digest"
            assert deliver(amy, settings, http, NOW) is Channel.CRM
            [request] = crm.received
    expected = "sha256=" + hmac.new(b"s3cret-digest", request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Nurture-Signature"] == expected
    assert request.headers["Idempotency-Key"] == "digest:amy:2026-04-11"
    body = json.loads(request.body)
    assert body["kind"] == "lead_digest" and [c["contact_id"] for c in body["cold"]] == [cold]
