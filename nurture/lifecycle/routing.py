"""Owners in the database and assigning a lead to one by the routing rules (`definitions.leads.routing`).

`assign_owner` routes once to learn which rotation pool the rules pick, then takes that pool's cursor with one
conditional increment (`UPDATE ... SET position = position + 1 RETURNING position`): PostgreSQL's row lock and
SQLite's single writer make concurrent assignments take distinct positions, so a rotation never hands the
same slot twice. The owner is stored on the lead row (a returning lead keeps it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from definitions.leads.routing import DEFAULT_RULES, LeadFacts, OwnerView, RoutingRules
from nurture.db.tables import LEAD, OWNER, ROUTING_CURSOR, upsert
from nurture.lifecycle.leads import profile_facts
from nurture.lifecycle.stages import ensure_lead


@dataclass(frozen=True)
class OwnerSpec:
    key: str
    team: str
    name: str = ""
    email: str = ""
    territory: tuple[str, ...] = ()
    time_zone: str = "UTC"
    weight: int = 1
    away: bool = False


@dataclass(frozen=True)
class Assignment:
    owner_id: int | None
    owner: str | None  # the owner's key; None: nobody available
    team: str
    why: str


def upsert_owner(conn: Connection, spec: OwnerSpec, now: datetime) -> int:
    """Create or update an owner by key; returns its id."""
    values = {
        "key": spec.key,
        "team": spec.team,
        "name": spec.name,
        "email": spec.email,
        "territory": ",".join(c.strip().upper() for c in spec.territory if c.strip()),
        "time_zone": spec.time_zone,
        "weight": spec.weight,
        "away": spec.away,
        "updated_at": now,
    }
    stmt = upsert(conn, OWNER).values(**values)
    stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={k: v for k, v in values.items() if k != "key"})
    conn.execute(stmt)
    return int(conn.execute(select(OWNER.c.id).where(OWNER.c.key == spec.key)).scalar_one())


def set_away(conn: Connection, key: str, away: bool, now: datetime) -> bool:
    """Mark an owner away (skipped by routing) or back; False if there is no such owner."""
    done = conn.execute(update(OWNER).where(OWNER.c.key == key).values(away=away, updated_at=now))
    return done.rowcount == 1


def owner_views(conn: Connection) -> list[OwnerView]:
    o = OWNER.c
    rows = conn.execute(select(o.key, o.team, o.territory, o.weight, o.away).order_by(o.key)).all()
    return [OwnerView(r.key, r.team, tuple(t for t in r.territory.split(",") if t), r.weight, r.away) for r in rows]


def _take_cursor(conn: Connection, pool: str) -> int:
    conn.execute(upsert(conn, ROUTING_CURSOR).values(team=pool, position=0).on_conflict_do_nothing())
    taken = conn.execute(
        update(ROUTING_CURSOR)
        .where(ROUTING_CURSOR.c.team == pool)
        .values(position=ROUTING_CURSOR.c.position + 1)
        .returning(ROUTING_CURSOR.c.position)
    ).scalar_one()
    return int(taken) - 1


def assign_owner(
    conn: Connection,
    contact_id: int,
    now: datetime,
    rules: RoutingRules = DEFAULT_RULES,
    exclude: frozenset[str] = frozenset(),
) -> Assignment:
    """Route the contact to an owner and store it on the lead row (in the caller's transaction). Owners in
    `exclude` are skipped (an SLA re-route never hands the lead back to the owner who missed it)."""
    ensure_lead(conn, contact_id, now)
    previous = conn.execute(
        select(OWNER.c.key)
        .select_from(LEAD.join(OWNER, OWNER.c.id == LEAD.c.owner_id))
        .where(LEAD.c.contact_id == contact_id)
    ).scalar()
    facts = profile_facts(conn, contact_id)
    lead = LeadFacts(facts.get("country", ""), facts.get("industry", ""), None if previous in exclude else previous)
    owners = [o for o in owner_views(conn) if o.key not in exclude]
    route = rules.route(lead, owners, 0)
    if route.rotation is not None:
        route = rules.route(lead, owners, _take_cursor(conn, route.rotation))
    if route.owner is None:
        return Assignment(None, None, route.team, route.why)
    owner_id = int(conn.execute(select(OWNER.c.id).where(OWNER.c.key == route.owner)).scalar_one())
    conn.execute(update(LEAD).where(LEAD.c.contact_id == contact_id).values(owner_id=owner_id, updated_at=now))
    return Assignment(owner_id, route.owner, route.team, route.why)


def owner_card(conn: Connection, owner_id: int | None) -> dict[str, str] | None:
    """What the CRM payload names: the owner's key, name, email, team and time zone."""
    if owner_id is None:
        return None
    o = OWNER.c
    row = conn.execute(select(o.key, o.name, o.email, o.team, o.time_zone).where(o.id == owner_id)).first()
    return None if row is None else dict(row._mapping)
