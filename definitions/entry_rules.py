"""Which journeys a new opt-in enters. Pure rules over the contact's persona and topics of interest.

Owner: growth marketing. A contact may match several journeys; each journey runs once per contact.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class EntryRule:
    """Enter `journey` when the persona is one of `personas` or any topic is one of `topics`."""

    journey: str
    personas: frozenset[str] = frozenset()
    topics: frozenset[str] = frozenset()

    def matches(self, persona: str, topics: Iterable[str]) -> bool:
        return persona in self.personas or bool(self.topics & set(topics))


RULES: tuple[EntryRule, ...] = (
    # Ledgerline prospects: finance and IT leads who opted in to the newsletter or a whitepaper.
    EntryRule("b2b_drip", personas=frozenset({"finance-lead", "it-lead"})),
    # Greenacre shoppers: homeowners, or anyone who gave an email on a mower page.
    EntryRule("b2c_cultivation", personas=frozenset({"homeowner"}), topics=frozenset({"mowers"})),
)


def journeys_for(persona: str, topics: Iterable[str]) -> list[str]:
    """The journeys whose entry rules match, in rule order."""
    topics = list(topics)
    return [rule.journey for rule in RULES if rule.matches(persona, topics)]
