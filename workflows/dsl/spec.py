"""A journey's declaration: everything about it in one place (`@journey(...)`), and the registry of journeys.

`@journey` takes the key, the catalog, the readiness threshold, the entry rule (who enters), the stage
thresholds, the scoring rules, the send window, whether quiet days apply (`holidays=True`: no drop on a public
holiday of the contact's country or a company closure date), what a deferred drop does to the schedule
(`rhythm`), the broadcast relevance rule, the cool-down after
a rejection and how long to wait for sales. `definitions.load_definitions()` imports every definition module,
which fills `REGISTRY` and `CATALOGS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from workflows.dsl.content import DEFAULT_STAGE_THRESHOLDS, STAGES, Catalog, ContentItem, stage_for
from workflows.dsl.journey import BUSINESS_HOURS, Relevance, SendWindow, Storyboard, same_topic
from workflows.dsl.rhythm import Rhythm
from workflows.dsl.scoring import DEFAULT_SCORING, ScoringRules
from workflows.experiments import Experiment


@dataclass(frozen=True)
class EntryRule:
    """A new opt-in enters the journey when their persona is one of `personas` or any topic is one of `topics`."""

    personas: frozenset[str] = frozenset()
    topics: frozenset[str] = frozenset()

    def __init__(self, personas: Iterable[str] = (), topics: Iterable[str] = ()) -> None:
        object.__setattr__(self, "personas", frozenset(personas))
        object.__setattr__(self, "topics", frozenset(topics))

    def matches(self, persona: str, topics: Iterable[str]) -> bool:
        return persona in self.personas or bool(self.topics & set(topics))


@dataclass(frozen=True)
class JourneySpec:
    key: str
    storyboard: Storyboard
    catalog: Catalog
    threshold: float
    summary: str = ""
    entry: EntryRule | None = None  # None: contacts enter only when enrolled by name
    scoring: ScoringRules = DEFAULT_SCORING
    send_window: SendWindow | None = BUSINESS_HOURS
    holidays: bool = False  # opt in: no drop on the contact's country's public holidays or company closures
    relevance: Relevance = same_topic
    broadcast_pushes_schedule: bool = True  # push the next drop back so it keeps the minimum gap
    rhythm: Rhythm = Rhythm.KEEP  # after a deferred scheduled drop: keep the schedule, or shift it (dsl.rhythm)
    cooldown_after_rejection: timedelta = timedelta(days=30)
    sales_feedback_timeout: timedelta = timedelta(days=14)
    stages: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_STAGE_THRESHOLDS))
    holdout: float = 0.0  # share of contacts enrolled, tracked and scored but sent nothing (workflows.experiments)
    experiments: tuple[Experiment, ...] = ()  # what the storyboard's `j.variant` calls ask, for reports and console

    def __post_init__(self) -> None:
        if not 0.0 <= self.holdout < 1.0:
            raise ValueError(f"journey {self.key}: holdout must be in [0, 1), got {self.holdout}")
        keys = [e.key for e in self.experiments]
        if len(set(keys)) != len(keys):
            raise ValueError(f"journey {self.key}: experiment keys must be unique, got {keys}")

    def experiment(self, key: str) -> Experiment | None:
        return next((e for e in self.experiments if e.key == key), None)
        if set(self.stages) != set(STAGES):
            raise ValueError(f"journey {self.key}: stages must give a threshold for each of {STAGES}")

    def stage_for(self, score: float) -> str:
        return stage_for(score, self.stages)


REGISTRY: dict[str, JourneySpec] = {}
CATALOGS: dict[str, Catalog] = {}


def register_catalog(name: str, catalog: Catalog) -> Catalog:
    """Make a catalog's items available to broadcasts (journey catalogs are registered by `@journey`).

    Journeys may share a catalog (the same `Catalog` object); two different catalogs may not share an item id.
    """
    for other_name, other in CATALOGS.items():
        if other_name == name or other is catalog:
            continue
        clash = {item.id for item in catalog.items} & {item.id for item in other.items}
        if clash:
            raise ValueError(f"item ids {sorted(clash)} appear in catalogs {name!r} and {other_name!r}")
    CATALOGS[name] = catalog
    return catalog


def find_item(item_id: str) -> ContentItem | None:
    """Look an item up across every registered catalog (item ids are unique project-wide)."""
    for catalog in CATALOGS.values():
        if item_id in catalog:
            return catalog.get(item_id)
    return None


def journeys_for(persona: str, topics: Iterable[str]) -> list[str]:
    """The journeys a new opt-in enters (their entry rules match), in the order they were loaded."""
    topics = list(topics)
    return [key for key, spec in REGISTRY.items() if spec.entry is not None and spec.entry.matches(persona, topics)]


def scoring_for(journey: str) -> ScoringRules:
    """The journey's scoring rules (the house rules for a journey not loaded)."""
    spec = REGISTRY.get(journey)
    return spec.scoring if spec is not None else DEFAULT_SCORING


def journey(
    key: str,
    *,
    catalog: Catalog,
    threshold: float,
    entry: EntryRule | None = None,
    stages: dict[str, float] | None = None,
    scoring: ScoringRules = DEFAULT_SCORING,
    send_window: SendWindow | None = BUSINESS_HOURS,
    holidays: bool = False,
    relevance: Relevance = same_topic,
    broadcast_pushes_schedule: bool = True,
    rhythm: Rhythm = Rhythm.KEEP,
    cooldown_after_rejection: timedelta = timedelta(days=30),
    sales_feedback_timeout: timedelta = timedelta(days=14),
    holdout: float = 0.0,
    experiments: Iterable[Experiment] = (),
) -> Callable[[Storyboard], Storyboard]:
    """Register a storyboard under `key` (which must equal its file name in definitions/), with all its settings."""

    def register(fn: Storyboard) -> Storyboard:
        if key in REGISTRY and REGISTRY[key].storyboard is not fn:
            raise ValueError(f"journey {key!r} registered twice")
        register_catalog(key, catalog)
        REGISTRY[key] = JourneySpec(
            key=key,
            storyboard=fn,
            catalog=catalog,
            threshold=threshold,
            summary=(fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else "",
            entry=entry,
            scoring=scoring,
            send_window=send_window,
            holidays=holidays,
            relevance=relevance,
            broadcast_pushes_schedule=broadcast_pushes_schedule,
            rhythm=Rhythm(rhythm),
            cooldown_after_rejection=cooldown_after_rejection,
            sales_feedback_timeout=sales_feedback_timeout,
            stages=dict(stages) if stages is not None else dict(DEFAULT_STAGE_THRESHOLDS),
            holdout=holdout,
            experiments=tuple(experiments),
        )
        return fn

    return register
