"""`nurture status` for an ended journey shows what it last knew: from its result where the journey did not upsert
its search attributes at the end (runtime version 4 on), from the search attributes for older journeys."""

from __future__ import annotations

from temporalio.common import SearchAttributePair, TypedSearchAttributes

from nurture import search_attributes
from nurture.cli.status import last_state
from workflows.payloads import JourneyResult

AS_AT_LAST_WAIT = TypedSearchAttributes(
    [
        SearchAttributePair(search_attributes.SA_STAGE, "awareness"),
        SearchAttributePair(search_attributes.SA_LEAD_SCORE, 12.0),
        SearchAttributePair(search_attributes.SA_DROPS_SENT, 3),
    ]
)


def test_the_result_wins_over_search_attributes_from_the_last_wait() -> None:
    result = JourneyResult("b2b_drip", 7, "completed", 4, ["a", "b", "c", "d"], stage="consideration", lead_score=41.5)
    assert last_state(AS_AT_LAST_WAIT, result) == [
        ("stage", "consideration"),
        ("lead score", "41.5"),
        ("drops sent", "4"),
    ]


def test_a_journey_that_ended_before_version_4_shows_its_search_attributes() -> None:
    older = JourneyResult("b2b_drip", 7, "completed", 3, ["a", "b", "c"])  # no stage or score in its result
    assert last_state(AS_AT_LAST_WAIT, older) == [("stage", "awareness"), ("lead score", "12.0"), ("drops sent", "3")]
    assert last_state(AS_AT_LAST_WAIT, None)[1] == ("lead score", "12.0")  # failed or terminated: no result
