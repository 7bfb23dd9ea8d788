"""Send windows in the contact's own time zone. Pure functions of an aware `now`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from workflows.dsl import SendWindow


def zone(name: str) -> ZoneInfo:
    """The contact's zone; an unknown name falls back to UTC rather than failing a journey."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def next_window_start(now: datetime, window: SendWindow, time_zone: str) -> datetime:
    """`now` if inside the window, else the next moment the window opens (as aware UTC)."""
    local = now.astimezone(zone(time_zone))
    for offset in range(0, 8):
        day = (local + timedelta(days=offset)).date()
        if day.weekday() not in window.weekdays:
            continue
        opens = datetime(day.year, day.month, day.day, window.start_hour, tzinfo=local.tzinfo)
        closes = opens + timedelta(hours=window.end_hour - window.start_hour)
        if offset == 0 and opens <= local < closes:
            return now
        if opens > local:
            return opens.astimezone(UTC)
    raise ValueError("send window never opens")  # unreachable: SendWindow requires a weekday
