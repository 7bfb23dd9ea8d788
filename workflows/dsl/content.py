"""Content: the items a journey drops, their catalogs, and the buying stages items are written for."""

from __future__ import annotations

import dataclasses
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

STAGES = ("awareness", "consideration", "decision")
DEFAULT_STAGE_THRESHOLDS: dict[str, float] = {"awareness": 0.0, "consideration": 20.0, "decision": 45.0}
# The contact's fields a subject or body may use, as `$first_name` or `${company}` (filled in when sending).
TEMPLATE_FIELDS = frozenset({"first_name", "last_name", "company", "unsubscribe_url", "preferences_url"})


def stage_for(score: float, thresholds: dict[str, float] = DEFAULT_STAGE_THRESHOLDS) -> str:
    """The furthest stage whose threshold the score reaches (the one definition of stage from score)."""
    current = STAGES[0]
    for stage in STAGES:
        if score >= thresholds[stage]:
            current = stage
    return current


@dataclass(frozen=True)
class ContentItem:
    """One drop. `body` is a `string.Template` over the contact's fields ($first_name, $company, ...).

    `subjects` are subject-line variants for experiments, keyed "experiment:arm" (`{"subject-line:b": "..."}`):
    a contact whose recorded arm of that experiment matches gets that subject instead of `subject`.
    """

    id: str
    subject: str
    body: str
    stage: str = "awareness"
    personas: frozenset[str] = frozenset()  # empty: every persona
    topics: frozenset[str] = frozenset()
    kind: str = "article"
    subjects: Mapping[str, str] | tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise ValueError(f"item {self.id}: stage {self.stage!r} is not one of {STAGES}")
        pairs = tuple(sorted(self.subjects.items() if isinstance(self.subjects, Mapping) else self.subjects))
        object.__setattr__(self, "subjects", pairs)  # a tuple: the item stays hashable
        if any(k.count(":") != 1 or "" in k.split(":") for k, _ in pairs):
            keys = [k for k, _ in pairs]
            raise ValueError(f"item {self.id}: subject variants are keyed 'experiment:arm', got {keys}")
        for text in (self.subject, self.body, *(v for _, v in pairs)):
            unknown = {
                name
                for _, name, braced, _ in string.Template.pattern.findall(text)
                for name in (name or braced,)
                if name
            } - TEMPLATE_FIELDS
            if unknown:
                raise ValueError(f"item {self.id}: unknown template fields {sorted(unknown)}")

    def fits(self, persona: str) -> bool:
        return not self.personas or persona in self.personas

    def for_variants(self, variants: Mapping[str, str]) -> ContentItem:
        """This item as a contact in these experiment arms receives it (its subject variant, if one applies)."""
        alternatives = dict(self.subjects)
        for key, arm in sorted(variants.items()):
            subject = alternatives.get(f"{key}:{arm}")
            if subject is not None:
                return dataclasses.replace(self, subject=subject, subjects=())
        return self


@dataclass(frozen=True)
class Catalog:
    """An ordered set of items. Order is the default drop order within a stage."""

    items: tuple[ContentItem, ...]

    def __post_init__(self) -> None:
        ids = [item.id for item in self.items]
        if len(ids) != len(set(ids)):
            raise ValueError("catalog has duplicate item ids")

    def __contains__(self, item_id: object) -> bool:
        return any(item.id == item_id for item in self.items)

    def get(self, item_id: str) -> ContentItem:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def next_item(self, persona: str, stage: str, sent: Iterable[str], topic: str | None = None) -> ContentItem | None:
        """The next unsent item for persona at stage; falls back to the nearest stage, earlier first.

        With `topic`, only items about that topic qualify.
        """
        done = set(sent)
        fitting = [
            item
            for item in self.items
            if item.fits(persona) and item.id not in done and (topic is None or topic in item.topics)
        ]
        here = STAGES.index(stage)
        order = sorted(range(len(STAGES)), key=lambda i: (abs(i - here), i > here))
        for index in order:
            for item in fitting:
                if item.stage == STAGES[index]:
                    return item
        return None


# A broadcast a marketer wrote in the console drops the item `broadcast:<broadcast id>`: its subject and body live
# in the database (nurture.db.broadcast_content), never in Temporal. A journey deciding relevance sees this stand-in,
# which carries the broadcast's kind and topics only; the drop activity reads the content when it sends.
WRITTEN_PREFIX = "broadcast:"


def written_item_id(broadcast_id: str) -> str:
    return f"{WRITTEN_PREFIX}{broadcast_id}"


def written_stand_in(item_id: str, kind: str, topics: Iterable[str]) -> ContentItem | None:
    """The stand-in for a written broadcast's item (None if `item_id` names no written broadcast)."""
    if not item_id.startswith(WRITTEN_PREFIX):
        return None
    return ContentItem(id=item_id, subject="", body="", topics=frozenset(topics), kind=kind)
