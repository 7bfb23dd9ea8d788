"""Lifecycle stages as data: the small pure types a team's stage model is written with (no I/O, no clock).

A `StageModel` is an ordered main line (subscriber -> ... -> advocate) plus side stages (recycled,
disqualified, lost) that sit outside the line. `judge(current, target, actor)` decides whether a move is allowed:
automatic moves (a journey step) only go forward along the line or onto a side stage; sales, imports and
operators may also move back, but only with a reason. The one writer (`nurture.lifecycle.stages.move_stage`)
asks this before it writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ActorKind(StrEnum):
    """Who moved a contact: the only automatic mover is a journey step."""

    OPT_IN = "opt_in"  # the first stage, recorded when lifecycle first sees a contact
    JOURNEY = "journey_step"
    SALES = "sales_verdict"
    IMPORT = "import"
    OPERATOR = "operator"

    @property
    def automatic(self) -> bool:
        return self in (ActorKind.JOURNEY, ActorKind.OPT_IN)


class MoveKind(StrEnum):
    FORWARD = "forward"
    BACK = "back"
    SIDE = "side"  # onto a side stage (recycled, disqualified, lost)
    RETURN = "return"  # from a side stage back onto the main line
    SAME = "same"


@dataclass(frozen=True)
class MoveJudgement:
    allowed: bool
    kind: MoveKind
    why: str  # for a refusal: what was wrong; for an allowed move: what kind it was


@dataclass(frozen=True)
class StageModel:
    """`line` in order; `side` stages hang off it. Names are lowercase keys a team may rename or extend."""

    line: tuple[str, ...]
    side: tuple[str, ...] = ()
    reentry: tuple[str, ...] = ()  # side stages an automatic move may leave (a recycled lead qualifying again)
    labels: tuple[tuple[str, str], ...] = ()  # (key, label shown to people)

    def __post_init__(self) -> None:
        names = self.line + self.side
        if not self.line or len(set(names)) != len(names):
            raise ValueError("a stage model needs a main line and unique stage names")

    @property
    def initial(self) -> str:
        return self.line[0]

    @property
    def names(self) -> tuple[str, ...]:
        return self.line + self.side

    def label(self, stage: str) -> str:
        return dict(self.labels).get(stage, stage)

    def rank(self, stage: str) -> int | None:
        """Position on the main line; None for a side stage."""
        return self.line.index(stage) if stage in self.line else None

    def check(self, stage: str) -> str:
        if stage not in self.names:
            raise ValueError(f"unknown stage {stage!r}; stages are {', '.join(self.names)}")
        return stage

    def kind_of(self, current: str, target: str) -> MoveKind:
        self.check(current)
        self.check(target)
        if current == target:
            return MoveKind.SAME
        if target in self.side:
            return MoveKind.SIDE
        if current in self.side:
            return MoveKind.RETURN
        ranks = self.rank(current), self.rank(target)
        assert ranks[0] is not None and ranks[1] is not None
        return MoveKind.FORWARD if ranks[1] > ranks[0] else MoveKind.BACK

    def judge(self, current: str, target: str, actor: ActorKind, reason: str) -> MoveJudgement:
        kind = self.kind_of(current, target)
        if kind is MoveKind.SAME:
            return MoveJudgement(False, kind, f"already {target}")
        if kind in (MoveKind.FORWARD, MoveKind.SIDE):
            return MoveJudgement(True, kind, kind.value)
        if actor.automatic and kind is MoveKind.RETURN and current in self.reentry:
            return MoveJudgement(True, kind, kind.value)  # e.g. a recycled lead qualifying again
        if actor.automatic:
            return MoveJudgement(False, kind, f"automatic moves only go forward ({current} -> {target} is {kind})")
        if not reason.strip():
            return MoveJudgement(False, kind, f"moving {current} -> {target} ({kind}) needs a reason")
        return MoveJudgement(True, kind, kind.value)
