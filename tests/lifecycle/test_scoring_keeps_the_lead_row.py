"""Scoring a contact refreshes its lead row, so the ranked list follows behaviour without reading Temporal."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine

from activities.scoring import Scorer
from nurture.lifecycle.leads import top_leads
from tests.lifecycle.helpers import T0, add_contact, add_event
from workflows.payloads import ScoreInput


def test_a_scored_contact_climbs_the_ranked_list(engine: Engine) -> None:
    now = T0 + timedelta(days=3)
    with engine.begin() as conn:
        quiet = add_contact(conn, "quiet@example.com", role="VP Finance")
        busy = add_contact(conn, "busy@example.com", role="VP Finance")
        add_event(conn, busy, "page_view", now - timedelta(hours=2), "https://x.example/pricing")
    scorer = Scorer(engine)
    for cid in (quiet, busy):
        scorer.score(ScoreInput(contact_id=cid, journey="b2b_drip", now=now))
    with engine.begin() as conn:
        ranked = top_leads(conn)
    assert [v.contact_id for v in ranked] == [busy, quiet]
    assert ranked[0].score > 14 and ranked[0].signals == ("pricing page",) and ranked[1].score == 0
