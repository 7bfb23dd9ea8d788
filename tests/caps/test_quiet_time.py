"""next_allowed: the send window in the contact's zone, public holidays of its country, company closures."""

from __future__ import annotations

from datetime import UTC, date, datetime

from workflows.dsl import SendWindow
from workflows.quiet import is_quiet_day, next_allowed

WEEKDAYS = SendWindow()


def test_inside_the_window_on_a_working_day_is_now() -> None:
    now = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)  # Tuesday 11:00 Berlin
    assert next_allowed(now, "Europe/Berlin", WEEKDAYS, "DE") == now


def test_evening_in_berlin_waits_for_the_next_morning() -> None:
    now = datetime(2026, 3, 3, 19, 31, tzinfo=UTC)  # 20:31 Berlin
    assert next_allowed(now, "Europe/Berlin", WEEKDAYS, "DE") == datetime(2026, 3, 4, 8, 0, tzinfo=UTC)


def test_christmas_and_a_closure_are_skipped() -> None:
    now = datetime(2026, 12, 24, 19, 31, tzinfo=UTC)
    closures = [date(2026, 12, 28)]
    # 25 and 26 December are public holidays in Germany, 27 is a Sunday, 28 a company closure
    assert next_allowed(now, "Europe/Berlin", WEEKDAYS, "DE", closures) == datetime(2026, 12, 29, 8, 0, tzinfo=UTC)
    # without a country only the window and the closure count: Friday 25 December is a working day
    assert next_allowed(now, "Europe/Berlin", WEEKDAYS, None) == datetime(2026, 12, 25, 8, 0, tzinfo=UTC)


def test_holidays_differ_by_country() -> None:
    assert is_quiet_day(date(2026, 7, 4), "US", ()) == "public holiday in US"
    assert is_quiet_day(date(2026, 7, 4), "DE", ()) is None
    assert is_quiet_day(date(2026, 7, 4), "ZZ", ()) is None  # unknown country: no holidays, not no email


def test_no_window_still_honours_holidays() -> None:
    now = datetime(2026, 12, 25, 12, 0, tzinfo=UTC)
    assert next_allowed(now, "UTC", None, "GB") == datetime(2026, 12, 27, 0, 0, tzinfo=UTC)  # 25, 26 (Boxing Day)
