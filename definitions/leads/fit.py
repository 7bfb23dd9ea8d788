"""Fit grading: who a contact is, graded A+ .. D- from profile rules (like a grading profile). Owner: sales ops.

Every contact starts at `START` and each rule whose field matches moves the grade by `steps` (a step is a third
of a letter: B -> B+). Fields are any contact fact (role, company_size, industry, country, or a field a CRM
import brings). The explanation names every fact that moved the grade, so a rep sees why a lead is a B+.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from workflows.dsl import GRADE_LADDER as LADDER  # D- .. A+: storyboards compare grades on the same ladder

START = "D+"


@dataclass(frozen=True)
class OneOf:
    """The field equals one of `values` (case-insensitive)."""

    values: tuple[str, ...]

    def matches(self, value: str) -> bool:
        return value.strip().lower() in {v.lower() for v in self.values}


@dataclass(frozen=True)
class Contains:
    """The field contains one of `words` as whole words (case-insensitive): "VP" in "VP Finance", but "cto"
    is not in "Director"."""

    words: tuple[str, ...]

    def matches(self, value: str) -> bool:
        return any(re.search(rf"\b{re.escape(w)}\b", value, re.IGNORECASE) for w in self.words)


@dataclass(frozen=True)
class Between:
    """A number in [low, high] (company size: "250" or "200-500", the lower bound counts)."""

    low: float
    high: float

    def matches(self, value: str) -> bool:
        head = value.replace(",", "").replace("+", "").split("-", 1)[0].strip()
        try:
            return self.low <= float(head) <= self.high
        except ValueError:
            return False


Matcher = OneOf | Contains | Between


@dataclass(frozen=True)
class FitRule:
    field: str
    matcher: Matcher
    steps: int
    label: str


@dataclass(frozen=True)
class FitFact:
    """One profile fact that moved the grade."""

    field: str
    value: str
    steps: int
    label: str


@dataclass(frozen=True)
class Grade:
    letter: str  # A+ .. D-
    steps: int  # index on LADDER: 0 (D-) .. 11 (A+)
    facts: tuple[FitFact, ...]

    def at_least(self, letter: str) -> bool:
        return self.steps >= LADDER.index(letter)

    def explain(self) -> str:
        if not self.facts:
            return f"grade {self.letter}: no profile facts matched the grading profile"
        named = ", ".join(f"{f.label} ({f.field}={f.value}, {f.steps:+d})" for f in self.facts)
        return f"grade {self.letter}: {named}"


@dataclass(frozen=True)
class GradingProfile:
    rules: tuple[FitRule, ...]
    start: str = START

    def grade(self, facts: Mapping[str, str]) -> Grade:
        """First matching rule per field counts (rules are listed strongest first)."""
        steps = LADDER.index(self.start)
        moved: list[FitFact] = []
        seen: set[str] = set()
        for rule in self.rules:
            value = (facts.get(rule.field) or "").strip()
            if not value or rule.field in seen or not rule.matcher.matches(value):
                continue
            seen.add(rule.field)
            steps += rule.steps
            moved.append(FitFact(rule.field, value, rule.steps, rule.label))
        steps = max(0, min(len(LADDER) - 1, steps))
        return Grade(LADDER[steps], steps, tuple(moved))


DECISION_MAKERS = ("chief", "cfo", "ceo", "cto", "vp", "vice president", "head of")
TARGET_INDUSTRIES = ("software", "saas", "fintech", "accounting", "financial services")

DEFAULT_PROFILE = GradingProfile(
    rules=(
        FitRule("role", Contains(DECISION_MAKERS), 4, "decision maker"),
        FitRule("role", Contains(("director", "controller")), 3, "budget holder"),
        FitRule("role", Contains(("manager", "lead")), 2, "influencer"),
        FitRule("role", Contains(("student", "intern")), -3, "not a buyer"),
        FitRule("company_size", Between(200, 5000), 3, "mid-market company"),
        FitRule("company_size", Between(20, 199), 2, "small business"),
        FitRule("company_size", Between(5001, 10**9), 1, "enterprise (long cycle)"),
        FitRule("company_size", Between(0, 19), -1, "very small company"),
        FitRule("industry", OneOf(TARGET_INDUSTRIES), 2, "target industry"),
        FitRule("industry", OneOf(("education", "non-profit")), -1, "low-budget industry"),
        FitRule("country", OneOf(("US", "CA", "GB", "IE", "DE", "NL", "FR", "AU")), 1, "served country"),
    )
)
