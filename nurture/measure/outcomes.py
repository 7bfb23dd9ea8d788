"""What counts as converting, for uplift: an event a person caused, or a lifecycle stage reached.

Each outcome gives the moment a contact first reached it after enrolling, as a correlated scalar subquery on the
enrollment row: `EventOutcome` from the event table (`ix_event_contact_kind`), people's events only,
optionally on a URL prefix; `StageOutcome` from the stage history (`stage_change`, `ix_stage_change_contact_at`),
where reaching a stage means moving to it or to any later stage of the main line (a lead sales accepted and then
qualified as an opportunity in one afternoon reached "sal" too). `parse_outcome` reads the word the CLI and the
console take.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, select

from definitions.leads.stages import STAGES
from nurture.db.tables import ENROLLMENT, EVENT, STAGE_CHANGE

N, E, S = ENROLLMENT.c, EVENT.c, STAGE_CHANGE.c
ALIASES = {"accepted": "sal", "sales-accepted": "sal"}  # the words marketers use for a stage key


@dataclass(frozen=True)
class EventOutcome:
    """An event kind (people's, never machines'), optionally on a URL prefix."""

    kind: str
    url_prefix: str | None = None

    @property
    def label(self) -> str:
        return f"{self.kind} {self.url_prefix}*" if self.url_prefix else self.kind

    def first_reached(self) -> ColumnElement[Any]:
        on = and_(E.contact_id == N.contact_id, E.kind == self.kind, E.machine == false())
        on = and_(on, E.occurred_at >= N.enrolled_at)  # ix_event_contact_kind: the first entry is the answer
        if self.url_prefix:
            on = and_(on, E.url.startswith(self.url_prefix, autoescape=True))
        return select(func.min(E.occurred_at)).where(on).correlate(ENROLLMENT).scalar_subquery()


@dataclass(frozen=True)
class StageOutcome:
    """A lifecycle stage on the main line (mql, sal, customer, ...), reached or passed after enrolling."""

    stage: str

    def __post_init__(self) -> None:
        if STAGES.rank(self.stage) is None:
            raise ValueError(f"stage {self.stage!r} is not on the lifecycle line ({', '.join(STAGES.line)})")

    @property
    def label(self) -> str:
        return f"reached {STAGES.label(self.stage)}"

    @property
    def stages(self) -> tuple[str, ...]:
        rank = STAGES.rank(self.stage)
        assert rank is not None
        return STAGES.line[rank:]

    def first_reached(self) -> ColumnElement[Any]:
        on = and_(S.contact_id == N.contact_id, S.at >= N.enrolled_at, S.to_stage.in_(self.stages))
        return select(func.min(S.at)).where(on).correlate(ENROLLMENT).scalar_subquery()


Outcome = EventOutcome | StageOutcome
CLICK = EventOutcome("clicked")


def parse_outcome(word: str, url_prefix: str | None = None) -> Outcome:
    """A stage of the lifecycle line (or "accepted" for sal) is a stage outcome; any other word an event kind.

    Raises ValueError for an empty word, or a side stage (recycled, lost: not an outcome to aim for)."""
    word = word.strip().lower()
    if not word:
        raise ValueError("an outcome is an event kind (clicked, page_view, ...) or a stage (mql, sal, customer)")
    stage = ALIASES.get(word, word.removeprefix("stage:"))
    if stage in STAGES.names or word.startswith("stage:"):
        if url_prefix:
            raise ValueError("a URL prefix narrows an event outcome, not a stage")
        return StageOutcome(stage)
    return EventOutcome(word, url_prefix)
