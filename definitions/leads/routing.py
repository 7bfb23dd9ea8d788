"""Who gets a lead: routing rules as code. Owner: sales operations. Pure (the database keeps the cursor).

1. A returning lead keeps the owner it had, while that owner is available.
2. Territory: the first territory matching the lead's country or industry names the team; otherwise the default.
3. Within the team, owners whose own territory lists the lead's country go first; owners who are away are skipped.
4. Weighted round robin: an owner with weight 2 gets twice the leads of an owner with weight 1, interleaved.
If the team has nobody available the default team is tried, then the lead stays unrouted (with the reason).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class OwnerView:
    key: str
    team: str
    territory: tuple[str, ...] = ()  # country codes this owner covers inside the team
    weight: int = 1
    away: bool = False


@dataclass(frozen=True)
class Territory:
    team: str
    countries: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()

    def covers(self, country: str, industry: str) -> bool:
        return country.upper() in {c.upper() for c in self.countries} or industry.lower() in {
            i.lower() for i in self.industries
        }


@dataclass(frozen=True)
class LeadFacts:
    country: str = ""
    industry: str = ""
    previous_owner: str | None = None


@dataclass(frozen=True)
class Route:
    owner: str | None  # None: nobody available
    team: str
    why: str
    rotation: str | None  # the round-robin pool whose cursor this pick used (None: no rotation involved)


@dataclass(frozen=True)
class RoutingRules:
    territories: tuple[Territory, ...]
    default_team: str

    def team_for(self, lead: LeadFacts) -> tuple[str, str]:
        for t in self.territories:
            if t.covers(lead.country, lead.industry):
                return t.team, f"territory {t.team} covers {lead.country or '-'}/{lead.industry or '-'}"
        return self.default_team, "no territory matched: default team"

    def route(self, lead: LeadFacts, owners: Sequence[OwnerView], cursor: int) -> Route:
        """`cursor` is how many leads the chosen pool's rotation has handed out so far (the DB stores it, keyed
        by `Route.rotation`: route once with any cursor to learn the pool, then with the pool's cursor)."""
        by_key = {o.key: o for o in owners}
        previous = by_key.get(lead.previous_owner or "")
        if previous is not None and not previous.away:
            return Route(previous.key, previous.team, f"returning lead keeps owner {previous.key}", None)
        team, why = self.team_for(lead)
        for candidate_team in dict.fromkeys((team, self.default_team)):
            available = [o for o in owners if o.team == candidate_team and not o.away and o.weight > 0]
            local = [o for o in available if lead.country and lead.country.upper() in {c.upper() for c in o.territory}]
            pool = local or available
            if not pool:
                why = f"{why}; nobody available in {candidate_team}"
                continue
            chosen = rotation(pool)[cursor % sum(o.weight for o in pool)]
            pool_key = f"{candidate_team}/{lead.country.upper()}" if local else candidate_team
            scope = f"owners covering {lead.country.upper()}" if local else "the team"
            return Route(chosen, candidate_team, f"{why}; weighted round robin over {scope}: {chosen}", pool_key)
        return Route(None, team, why, None)


def rotation(pool: Sequence[OwnerView]) -> list[str]:
    """One full weighted cycle, interleaved (smooth weighted round robin): weights 2,1 -> a, b, a."""
    ordered = sorted(pool, key=lambda o: o.key)
    total = sum(o.weight for o in ordered)
    current = {o.key: 0 for o in ordered}
    cycle: list[str] = []
    for _ in range(total):
        for o in ordered:
            current[o.key] += o.weight
        best = max(ordered, key=lambda o: (current[o.key], -ordered.index(o)))
        current[best.key] -= total
        cycle.append(best.key)
    return cycle


DEFAULT_RULES = RoutingRules(
    territories=(
        Territory("emea", countries=("GB", "IE", "DE", "FR", "NL", "ES", "IT", "SE")),
        Territory("fsi", industries=("financial services", "banking", "insurance")),
        Territory("americas", countries=("US", "CA", "MX", "BR")),
    ),
    default_team="americas",
)
