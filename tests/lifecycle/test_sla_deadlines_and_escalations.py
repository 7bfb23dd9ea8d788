"""The handoff SLA's database side: business-hours deadlines in the owner's zone; escalations re-route, are
stored as stage events, and call for recycling after repeated misses."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import httpx
from sqlalchemy import select
from sqlalchemy.engine import Engine

from activities.handoff import SalesHandoff
from nurture.config import Settings
from nurture.db.tables import HANDOFF, OWNER
from nurture.lifecycle.routing import OwnerSpec, upsert_owner
from nurture.lifecycle.sla import business_deadline, escalate
from nurture.lifecycle.stages import stage_history
from tests.activities.helpers import add_contact
from tests.activities.test_handoff import handoff_input


def test_business_hours_skip_nights_and_weekends_in_the_owners_zone() -> None:
    friday_4pm_berlin = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)  # 16:00 CET
    assert business_deadline(friday_4pm_berlin, "Europe/Berlin") == datetime(2026, 3, 9, 15, 0, tzinfo=UTC)
    saturday = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)
    assert business_deadline(saturday, "America/New_York") == datetime(2026, 3, 9, 21, 0, tzinfo=UTC)  # Mon 17:00 EST
    early = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)  # Tuesday 07:00 in Berlin: the clock starts at 09:00
    assert business_deadline(early, "Europe/Berlin") == datetime(2026, 3, 3, 16, 0, tzinfo=UTC)


def test_a_missed_sla_re_routes_then_recycles_and_every_escalation_is_in_the_history(engine: Engine) -> None:
    cid = add_contact(engine)
    now = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    with engine.begin() as conn:
        for key in ("amy", "bob"):
            upsert_owner(conn, OwnerSpec(key, "americas"), now)
    with httpx.Client() as http:
        handoff = SalesHandoff(Settings(_env_file=None), engine, http).hand_off(handoff_input(cid))  # type: ignore[call-arg]
    actor = f"sla:handoff-{handoff.handoff_id}"
    with engine.begin() as conn:
        first = escalate(conn, handoff.handoff_id, now, actor)
        owner_now = conn.execute(
            select(OWNER.c.key)
            .join(HANDOFF, HANDOFF.c.owner_id == OWNER.c.id)
            .where(HANDOFF.c.id == handoff.handoff_id)
        ).scalar_one()
        second = escalate(conn, handoff.handoff_id, now, actor)
        history = stage_history(conn, cid)
    assert not first.recycle and first.to_owner != first.from_owner and owner_now == first.to_owner
    assert second.misses == 2 and second.recycle and second.from_owner == first.to_owner
    escalations = [h for h in history if h.why.startswith("SLA missed")]
    assert [(h.from_stage, h.to_stage) for h in escalations] == [("mql", "mql"), ("mql", "mql")]
    assert "re-routed to" in escalations[0].why and "recycling" in escalations[1].why


def test_the_escalation_activity_tells_the_crm_once_per_miss_with_a_new_deadline(engine: Engine) -> None:
    from pydantic import SecretStr

    from activities.sla import SlaEscalation
    from definitions.leads import sla
    from tests.activities.receiver import Receiver
    from workflows.payloads import EscalateInput

    cid = add_contact(engine)
    now = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # Monday 09:00 in New York
    with engine.begin() as conn:
        upsert_owner(conn, OwnerSpec("amy", "americas", time_zone="America/New_York"), now)
        upsert_owner(conn, OwnerSpec("bob", "americas", time_zone="America/New_York"), now)
    assert sla.SLAS["b2b_drip"] == sla.SlaPolicy(), "the shipped b2b_drip runs on the default one-day SLA"
    with Receiver() as crm, httpx.Client() as http:
        settings = Settings(_env_file=None, crm_webhook_url=f"{crm.url}/crm", crm_webhook_secret=SecretStr("k3y-sla"))  # type: ignore[call-arg]
        handoffs = SalesHandoff(settings, engine, http)
        assert handoffs.hand_off(replace(handoff_input(cid), sla=False)).sla_deadline is None, "a pre-SLA history"
        handoff = handoffs.hand_off(replace(handoff_input(cid, attempt=2), sla=True))
        assert handoff.sla_deadline == datetime(2026, 3, 2, 22, 0, tzinfo=UTC)  # 17:00 in New York
        result = SlaEscalation(settings, engine, http).escalate_handoff(
            EscalateInput(handoff.handoff_id, cid, "b2b_drip", handoff.sla_deadline)
        )
        escalation = [r for r in crm.received if b"sla_escalation" in r.body]
    assert not result.recycle and result.owner is not None
    assert result.sla_deadline == datetime(2026, 3, 3, 22, 0, tzinfo=UTC)  # the next business day's close
    [request] = escalation
    assert request.headers["Idempotency-Key"] == f"sla:{handoff.handoff_id}:1"
