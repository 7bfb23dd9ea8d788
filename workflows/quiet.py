"""Quiet time: the send window, public holidays of the contact's country and company closure dates.

Pure (no clock, no I/O): `holidays` computes a country's calendar from rules in memory, so workflows and
activities may both call `next_allowed`.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import holidays

from workflows.calendar import next_window_start, zone
from workflows.dsl import SendWindow

MAX_DAYS_AHEAD = 400  # a window that never opens within a year is a configuration error


@lru_cache(maxsize=256)
def _holidays(country: str, year: int) -> frozenset[date]:
    try:
        calendar = holidays.country_holidays(country.upper(), years=year)
    except NotImplementedError:  # a country the library does not know has no holidays, rather than no email
        return frozenset()
    return frozenset(calendar.keys())


def is_quiet_day(day: date, country: str | None, closures: Collection[date]) -> str | None:
    """Why `day` (a local date) is a day without email, or None if it is not."""
    if day in closures:
        return "company closure"
    if country and day in _holidays(country, day.year):
        return f"public holiday in {country.upper()}"
    return None


def next_allowed(
    now: datetime,
    tz: str,
    window: SendWindow | None,
    country: str | None = None,
    closures: Collection[date] = (),
) -> datetime:
    """`now` if a drop may go now, else the first moment after it inside the window on a day that is neither
    a public holiday in `country` nor a company closure (aware UTC)."""
    local_zone = zone(tz)
    candidate = now
    for _ in range(MAX_DAYS_AHEAD):
        if window is not None:
            candidate = next_window_start(candidate, window, tz)
        local_day = candidate.astimezone(local_zone).date()
        if is_quiet_day(local_day, country, closures) is None:
            return candidate
        following = local_day + timedelta(days=1)
        candidate = datetime(following.year, following.month, following.day, tzinfo=local_zone).astimezone(UTC)
    raise ValueError("no allowed moment to send within a year: check the send window, holidays and closures")
