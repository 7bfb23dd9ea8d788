"""URLs reach Temporal reduced to what journeys match on, with email addresses and configured patterns redacted."""

from __future__ import annotations

import pytest

from nurture.config import Settings
from nurture.redaction import Redactor
from workflows.dsl import PAGE_VIEW

DEFAULT = Redactor.of()  # emails only


@pytest.mark.parametrize(
    ("url", "reduced"),
    [
        ("https://shop.example/pricing/for/someone@example.org", "https://shop.example/pricing/for/redacted"),
        ("https://shop.example/pricing/for/someone%40example.org/x", "https://shop.example/pricing/for/redacted/x"),
        ("https://shop.example/pricing?email=a@b.example#frag", "https://shop.example/pricing"),
        ("https://ada@shop.example:8443/pricing", "https://shop.example:8443/pricing"),
        ("https://shop.example/pricing", "https://shop.example/pricing"),
        ("/pricing/for/a@b.example?x=1", "/pricing/for/redacted"),
        ("https://[::1]:80/a", "https://[::1]:80/a"),
        ("http://[::1/broken", "/broken"),
        ("http://a:99999///[::1", "/"),  # the path left reads as a bad netloc too: nothing kept
    ],
)
def test_urls_are_reduced_to_scheme_host_and_redacted_path(url: str, reduced: str) -> None:
    assert DEFAULT.url(url) == reduced


def test_configured_patterns_are_redacted_and_journeys_still_match_the_path() -> None:
    redactor = Redactor.of(Settings(_env_file=None, pii_url_patterns=[r"acct-\d+"]).pii_url_patterns)  # type: ignore[call-arg]

    reduced = redactor.url("https://shop.example/pricing/acct-991/for/ada@x.example?token=abc")

    assert reduced == "https://shop.example/pricing/redacted/for/redacted"
    assert PAGE_VIEW("/pricing*").matches("page_view", reduced, None, None)


def test_a_pattern_that_is_not_a_regular_expression_is_refused_at_startup() -> None:
    with pytest.raises(ValueError, match="not a regular expression"):
        Settings(_env_file=None, pii_url_patterns=["(unclosed"])  # type: ignore[call-arg]
