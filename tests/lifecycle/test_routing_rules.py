"""Routing as code: pure rules, then the database's rotation cursor under concurrent assignments."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select
from sqlalchemy.engine import Engine

from definitions.leads.routing import DEFAULT_RULES, LeadFacts, OwnerView, rotation
from nurture.db.tables import LEAD
from nurture.lifecycle.routing import OwnerSpec, assign_owner, set_away, upsert_owner
from tests.lifecycle.helpers import T0, add_contact

OWNERS = [
    OwnerView("amy", "americas", weight=2),
    OwnerView("bob", "americas"),
    OwnerView("cat", "emea", territory=("DE",)),
    OwnerView("dan", "emea"),
    OwnerView("eve", "fsi", away=True),
]


def test_weighted_rotation_interleaves() -> None:
    assert rotation([OwnerView("a", "t", weight=2), OwnerView("b", "t")]) == ["a", "b", "a"]
    picks = [DEFAULT_RULES.route(LeadFacts("US"), OWNERS, i).owner for i in range(6)]
    assert Counter(picks) == {"amy": 4, "bob": 2}


def test_territory_by_country_or_industry_and_local_owners_first() -> None:
    de = DEFAULT_RULES.route(LeadFacts("DE"), OWNERS, 7)
    assert de.owner == "cat" and de.rotation == "emea/DE" and "territory emea" in de.why
    fr = {DEFAULT_RULES.route(LeadFacts("FR"), OWNERS, i).owner for i in range(4)}
    assert fr == {"cat", "dan"}


def test_away_owners_are_skipped_and_empty_teams_fall_back() -> None:
    fsi = DEFAULT_RULES.route(LeadFacts("JP", "Banking"), OWNERS, 0)
    assert fsi.team == "americas" and fsi.owner in {"amy", "bob"} and "nobody available in fsi" in fsi.why
    nobody = DEFAULT_RULES.route(LeadFacts("US"), [OwnerView("x", "emea", away=True)], 0)
    assert nobody.owner is None and nobody.rotation is None


def test_returning_lead_keeps_its_owner_unless_away() -> None:
    kept = DEFAULT_RULES.route(LeadFacts("US", previous_owner="dan"), OWNERS, 0)
    assert kept.owner == "dan" and kept.rotation is None and "returning lead" in kept.why
    moved = DEFAULT_RULES.route(LeadFacts("US", previous_owner="eve"), OWNERS, 0)
    assert moved.owner in {"amy", "bob"}


def test_database_rotation_is_fair_under_concurrent_assignment(engine: Engine) -> None:
    with engine.begin() as conn:
        upsert_owner(conn, OwnerSpec("amy", "americas", weight=2), T0)
        upsert_owner(conn, OwnerSpec("bob", "americas"), T0)
        upsert_owner(conn, OwnerSpec("zed", "americas", away=True), T0)
        ids = [add_contact(conn, f"p{i}@example.com", country="US") for i in range(12)]

    def assign(cid: int) -> str | None:
        with engine.begin() as conn:
            return assign_owner(conn, cid, T0).owner

    with ThreadPoolExecutor(4) as pool:
        picks = list(pool.map(assign, ids))
    assert Counter(picks) == {"amy": 8, "bob": 4}
    with engine.begin() as conn:
        assert set_away(conn, "amy", True, T0)
        again = assign_owner(conn, ids[0], T0)  # a returning lead whose owner went away is re-routed
        stored = conn.execute(select(LEAD.c.owner_id).where(LEAD.c.contact_id == ids[0])).scalar_one()
    assert again.owner in {"bob"} and stored == again.owner_id
