"""The pure cap evaluator: rolling local days, the minimum gap, frequency, snooze, and the rule that blocked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nurture.caps import Allowed, CapRule, Deferred, Frequency, evaluate, frequency_rule, parse_caps, window_start

MON = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_parse_caps_reads_counts_days_and_channels() -> None:
    assert parse_caps("1/3d, 2/7d,email:4/30d") == (CapRule(1, 3), CapRule(2, 7), CapRule(4, 30))
    assert parse_caps("") == ()
    with pytest.raises(ValueError, match="N/Dd"):
        parse_caps("three a week")


def test_no_sends_is_allowed() -> None:
    assert evaluate(MON, [], time_zone="UTC", rules=parse_caps("1/3d"), min_gap=3 * DAY) == Allowed()


def test_one_per_three_days_counts_local_calendar_days() -> None:
    # sent Monday 23:30 in Berlin (22:30 UTC): the window of 3 local days includes Mon, so Wednesday is blocked
    sent = datetime(2026, 3, 2, 22, 30, tzinfo=UTC)
    wed = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
    got = evaluate(wed, [sent], time_zone="Europe/Berlin", rules=parse_caps("1/3d"))
    assert isinstance(got, Deferred)
    assert got.until == datetime(2026, 3, 4, 23, 0, tzinfo=UTC)  # Thursday 00:00 Berlin
    assert "1 per 3 days" in got.rule
    # in UTC the same send fell on Monday too, and Thursday 00:00 UTC is the answer
    got_utc = evaluate(wed, [sent], time_zone="UTC", rules=parse_caps("1/3d"))
    assert isinstance(got_utc, Deferred) and got_utc.until == datetime(2026, 3, 5, tzinfo=UTC)


def test_the_rule_that_blocks_longest_is_named() -> None:
    sends = [MON, MON + 3 * DAY]
    got = evaluate(MON + 4 * DAY, sends, time_zone="UTC", rules=parse_caps("1/3d,2/7d"), min_gap=DAY)
    assert isinstance(got, Deferred)
    assert got.rule == "company cap 2 per 7 days"
    assert got.until == datetime(2026, 3, 9, tzinfo=UTC)  # Monday's send leaves the 7-day window


def test_at_the_deferral_moment_every_rule_allows() -> None:
    sends = [MON, MON + 2 * DAY, MON + 6 * DAY]
    rules = parse_caps("1/3d,2/7d,3/30d")
    got = evaluate(MON + 7 * DAY, sends, time_zone="America/New_York", rules=rules, min_gap=3 * DAY)
    assert isinstance(got, Deferred)
    again = evaluate(got.until, sends, time_zone="America/New_York", rules=rules, min_gap=3 * DAY)
    assert again == Allowed()
    before = evaluate(got.until - timedelta(seconds=1), sends, time_zone="America/New_York", rules=rules)
    assert isinstance(before, Deferred)


def test_minimum_gap_is_one_of_the_rules() -> None:
    got = evaluate(MON + DAY, [MON], time_zone="UTC", min_gap=3 * DAY)
    assert isinstance(got, Deferred) and got.until == MON + 3 * DAY and got.rule == "minimum gap"


def test_contact_frequency_and_snooze() -> None:
    weekly = frequency_rule(Frequency.WEEKLY)
    assert weekly is not None and frequency_rule(Frequency.ANY) is None
    got = evaluate(MON + 3 * DAY, [MON], time_zone="UTC", rules=[weekly])
    assert (
        isinstance(got, Deferred)
        and got.rule.startswith("contact's choice")
        and got.until == MON.replace(hour=0) + 7 * DAY
    )
    snoozed = evaluate(MON, [], time_zone="UTC", snoozed_until=MON + 30 * DAY)
    assert isinstance(snoozed, Deferred) and snoozed.rule == "snooze" and snoozed.until == MON + 30 * DAY


def test_other_channels_rules_do_not_apply() -> None:
    assert evaluate(MON + DAY, [MON], time_zone="UTC", rules=[CapRule(1, 7, channel="sms")]) == Allowed()


def test_window_start_is_local_midnight() -> None:
    assert window_start(MON, 7, "Europe/Berlin") == datetime(2026, 2, 23, 23, 0, tzinfo=UTC)


def test_the_dsl_priorities_are_the_stored_ones() -> None:
    from nurture.db import DropPriority
    from workflows.dsl import Priority

    assert {p.name: int(p) for p in Priority} == {p.name: int(p) for p in DropPriority}
