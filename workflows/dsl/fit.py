"""The fit grade as a storyboard sees it (`j.grade`): who the contact is, A+ .. D-, next to `j.score`.

The grading profile itself (which profile facts move the grade) is `definitions.leads.fit`; the ladder lives here
so a storyboard can compare grades without importing it.
"""

from __future__ import annotations

from dataclasses import dataclass

GRADE_LADDER = ("D-", "D", "D+", "C-", "C", "C+", "B-", "B", "B+", "A-", "A", "A+")


@dataclass(frozen=True)
class FitGrade:
    """The contact's grade as the last readiness check found it; `letter` is "" before any check graded it."""

    letter: str = ""

    @property
    def graded(self) -> bool:
        return self.letter in GRADE_LADDER

    def at_least(self, letter: str) -> bool:
        """At or above `letter` on the ladder (an ungraded contact is at least nothing)."""
        return self.graded and GRADE_LADDER.index(self.letter) >= GRADE_LADDER.index(letter)

    def __str__(self) -> str:
        return self.letter or "ungraded"
