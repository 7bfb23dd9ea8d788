"""The friendly audience form becomes a visibility query over running journeys; bad input is refused clearly."""

from __future__ import annotations

import re

import pytest

from nurture.broadcasts.audience import RUNNING_JOURNEYS, Audience, InvalidAudienceError


def test_empty_form_selects_every_running_journey() -> None:
    assert Audience().to_query() == RUNNING_JOURNEYS
    assert "ExecutionStatus = 'Running'" in RUNNING_JOURNEYS
    assert "WorkflowType = 'JourneyWorkflow'" in RUNNING_JOURNEYS


def test_each_field_narrows_with_its_search_attribute() -> None:
    form = Audience(
        journeys=["b2b_drip"],
        stages=["consideration", "decision"],
        personas=["finance-lead"],
        topics=["compliance"],
        phases=["nurturing"],
        contact_ids=[7, 9],
        min_score=20,
        max_score=60.5,
        where="NurtureDropsSent >= 2",
    )
    assert form.to_query() == (
        f"{RUNNING_JOURNEYS} AND NurtureJourney IN ('b2b_drip') AND NurtureStage IN ('consideration', 'decision')"
        " AND NurturePersona IN ('finance-lead') AND NurtureTopics IN ('compliance') AND NurturePhase IN ('nurturing')"
        " AND NurtureContactId IN ('7', '9') AND NurtureLeadScore >= 20.0 AND NurtureLeadScore <= 60.5"
        " AND (NurtureDropsSent >= 2)"
    )
    assert form.describe() == (
        "journey=b2b_drip stage=consideration,decision persona=finance-lead topic=compliance phase=nurturing "
        "contact=7,9 score>=20 score<=60.5 where NurtureDropsSent >= 2"
    )


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (Audience(journeys=["no_such"]), "unknown journeys ['no_such']"),
        (Audience(stages=["ready"]), "unknown stages ['ready']"),
        (Audience(phases=["done"]), "unknown phases ['done']"),
        (Audience(personas=["x' OR '1'='1"]), "use letters, digits"),
        (Audience(topics=[""]), "use letters, digits"),
        (Audience(contact_ids=[0]), "positive integers"),
        (Audience(min_score=50, max_score=10), "min_score 50 is above max_score 10"),
        (Audience(where="1 = 1) OR (WorkflowType = 'BroadcastWorkflow'"), "unbalanced ')'"),
        (Audience(where="NurtureStage = 'decision"), "unbalanced quotes"),
    ],
)
def test_bad_forms_are_refused_with_a_reason(form: Audience, message: str) -> None:
    with pytest.raises(InvalidAudienceError, match=re.escape(message)):
        form.to_query()
