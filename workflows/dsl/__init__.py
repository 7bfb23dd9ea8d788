"""The API journeys are written against. Pure Python: no Temporal, no I/O, no clocks.

A journey is an async function of one argument, a `Journey`, decorated with `@journey(...)` (which declares all of
its settings). It reads like a storyboard: drop content, sleep, wait for the first of several things to happen,
check readiness, hand off. Every primitive is deterministic; the runtime (`workflows.runtime`) gives them durable
meaning. Definitions import from here only (`from workflows.dsl import ...`).
"""

from workflows.dsl.calls import CallOutcome
from workflows.dsl.content import (
    DEFAULT_STAGE_THRESHOLDS,
    STAGES,
    TEMPLATE_FIELDS,
    Catalog,
    ContentItem,
    stage_for,
)
from workflows.dsl.durations import days, hours, minutes, weeks
from workflows.dsl.fit import GRADE_LADDER, FitGrade
from workflows.dsl.journey import (
    BUSINESS_HOURS,
    Journey,
    JourneyView,
    Offer,
    Relevance,
    SendWindow,
    Storyboard,
    same_topic,
)
from workflows.dsl.matchers import (
    EMAIL_CLICKED,
    EMAIL_OPENED,
    PAGE_VIEW,
    PRODUCT_LAUNCHED,
    REGULATION_CHANGED,
    Happened,
    Matcher,
)
from workflows.dsl.priority import Priority
from workflows.dsl.results import DropOutcome, DropResult, SalesAnswer, Verdict
from workflows.dsl.rhythm import Rhythm
from workflows.dsl.scoring import DEFAULT_SCORING, Contribution, Engagement, PageRule, Scored, ScoringRules
from workflows.dsl.spec import (
    CATALOGS,
    REGISTRY,
    EntryRule,
    JourneySpec,
    find_item,
    journey,
    journeys_for,
    register_catalog,
    scoring_for,
)
from workflows.experiments import Experiment
from workflows.lead_rules import MqlRule, SlaPolicy, register_readiness, register_slas, register_stage_model
from workflows.lifecycle import StageModel

__all__ = [
    "BUSINESS_HOURS",
    "CATALOGS",
    "DEFAULT_SCORING",
    "DEFAULT_STAGE_THRESHOLDS",
    "EMAIL_CLICKED",
    "EMAIL_OPENED",
    "GRADE_LADDER",
    "PAGE_VIEW",
    "PRODUCT_LAUNCHED",
    "REGISTRY",
    "REGULATION_CHANGED",
    "STAGES",
    "TEMPLATE_FIELDS",
    "CallOutcome",
    "Catalog",
    "ContentItem",
    "Contribution",
    "DropOutcome",
    "DropResult",
    "Engagement",
    "EntryRule",
    "Experiment",
    "FitGrade",
    "Happened",
    "Journey",
    "JourneySpec",
    "JourneyView",
    "Matcher",
    "MqlRule",
    "Offer",
    "PageRule",
    "Priority",
    "Relevance",
    "Rhythm",
    "SalesAnswer",
    "Scored",
    "ScoringRules",
    "SendWindow",
    "SlaPolicy",
    "StageModel",
    "Storyboard",
    "Verdict",
    "days",
    "find_item",
    "hours",
    "journey",
    "journeys_for",
    "minutes",
    "register_catalog",
    "register_readiness",
    "register_slas",
    "register_stage_model",
    "same_topic",
    "scoring_for",
    "stage_for",
    "weeks",
]
