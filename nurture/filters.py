"""The words filters may use (journeys, stages, phases, personas), checked the same way by every door.

The broadcast audience (HTTP and CLI), `nurture journeys` and `nurture enroll` call these, so a value one refuses
the others refuse too, with the same message listing what is known.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from definitions.leads.stages import STAGES as LIFECYCLE
from nurture import search_attributes
from workflows.dsl import REGISTRY, STAGES

DEFAULT_PERSONA = "general"  # no persona given: content for everyone, entry by topic only


class InvalidFilterError(ValueError):
    """A filter names something nurture does not know; the message says what is known."""


def _refuse_unknown(what: str, values: Iterable[str], known: Sequence[str]) -> None:
    bad = sorted(set(values) - set(known))
    if bad:
        raise InvalidFilterError(f"unknown {what} {bad}; use {', '.join(known)}")


def check_journeys(values: Iterable[str]) -> None:
    _refuse_unknown("journeys", values, sorted(REGISTRY))


def check_stages(values: Iterable[str]) -> None:
    _refuse_unknown("stages", values, STAGES)


def check_lifecycle_stages(values: Iterable[str]) -> None:
    """Lifecycle stages of the team's stage model (`definitions/leads/stages.py`), not the buying stages."""
    _refuse_unknown("lifecycle stages", values, LIFECYCLE.names)


def check_phases(values: Iterable[str], *, ended: bool = False) -> None:
    """Running journeys' phases; with `ended`, also `ended` (a listing of every journey, not a broadcast)."""
    _refuse_unknown("phases", values, search_attributes.PHASES if ended else search_attributes.RUNNING_PHASES)


def known_personas() -> list[str]:
    """Personas some journey's entry rule or some catalog item names, and the default."""
    found = {DEFAULT_PERSONA}
    for spec in REGISTRY.values():
        if spec.entry is not None:
            found |= spec.entry.personas
        for item in spec.catalog.items:
            found |= item.personas
    return sorted(found)


def check_personas(values: Iterable[str]) -> None:
    _refuse_unknown("personas", values, known_personas())
