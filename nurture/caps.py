"""Caps across journeys: a pure evaluator of whether one more drop may reach a contact now, and if not, when.

Rules are per channel (only `email` drops today; transactional mail has its own channel and never counts):

- the minimum gap between two drops (`Settings.min_gap_between_drops`);
- at most N drops per D days, where a day is a calendar day in the contact's own time zone: the window of
  "2 per 7 days" on a Wednesday evening in Berlin starts at the previous Thursday's local midnight;
- the contact's own frequency from the preference center (weekly = 1 per 7 days, monthly = 1 per 30 days);
- a snooze chosen in the preference center (nothing before it ends).

Every rule is monotone (once allowed, it stays allowed as time passes with no new send), so the earliest
moment all rules allow is the latest of each rule's own earliest moment. `evaluate` returns a typed decision.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DROP_CHANNEL = "email"
_RULE = re.compile(r"^\s*(?:(?P<channel>[a-z_]+):)?(?P<count>\d+)\s*/\s*(?P<days>\d+)\s*d\s*$")


class Frequency(StrEnum):
    """How often a contact asked to hear from us (preference center)."""

    ANY = "any"  # the company's caps only
    WEEKLY = "weekly"
    MONTHLY = "monthly"


FREQUENCY_DAYS = {Frequency.WEEKLY: 7, Frequency.MONTHLY: 30}


@dataclass(frozen=True)
class CapRule:
    """At most `count` drops on `channel` within `days` local calendar days."""

    count: int
    days: int
    channel: str = DROP_CHANNEL
    source: str = "company cap"

    def __post_init__(self) -> None:
        if self.count < 1 or self.days < 1:
            raise ValueError("a cap needs at least 1 drop per at least 1 day")

    @property
    def label(self) -> str:
        return f"{self.source} {self.count} per {self.days} day{'s' if self.days != 1 else ''}"


def parse_caps(spec: str) -> tuple[CapRule, ...]:
    """`"1/3d, 2/7d, email:4/30d"` -> rules; an empty spec means no caps besides the minimum gap."""
    rules = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        m = _RULE.match(part)
        if m is None:
            raise ValueError(f"cap {part!r} is not N/Dd (for example 2/7d or email:2/7d)")
        rules.append(CapRule(int(m["count"]), int(m["days"]), m["channel"] or DROP_CHANNEL))
    return tuple(rules)


def frequency_rule(frequency: Frequency) -> CapRule | None:
    days = FREQUENCY_DAYS.get(frequency)
    return None if days is None else CapRule(1, days, source="contact's choice")


@dataclass(frozen=True)
class Allowed:
    """The drop may go now."""

    allowed: bool = True


@dataclass(frozen=True)
class Deferred:
    """The drop may not go before `until`; `rule` is the one that blocked longest."""

    until: datetime
    rule: str
    detail: str
    allowed: bool = False


CapDecision = Allowed | Deferred


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _local_midnight(at: datetime, tz: ZoneInfo, plus_days: int = 0) -> datetime:
    day = at.astimezone(tz).date() + timedelta(days=plus_days)
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


def window_start(now: datetime, days: int, time_zone: str) -> datetime:
    """Where a rule over `days` local days starts for `now` (local midnight, days-1 days back)."""
    return _local_midnight(now, _zone(time_zone), -(days - 1))


def _rule_earliest(now: datetime, sends: Sequence[datetime], rule: CapRule, tz: ZoneInfo) -> datetime | None:
    start = _local_midnight(now, tz, -(rule.days - 1))
    inside = sorted(t for t in sends if t >= start)
    if len(inside) < rule.count:
        return None
    # the window drops below `count` once the (len - count + 1)th oldest send has left it
    leaving = inside[len(inside) - rule.count]
    return _local_midnight(leaving, tz, rule.days)


def evaluate(
    now: datetime,
    sends: Sequence[datetime],
    *,
    time_zone: str,
    rules: Sequence[CapRule] = (),
    min_gap: timedelta = timedelta(0),
    snoozed_until: datetime | None = None,
    channel: str = DROP_CHANNEL,
) -> CapDecision:
    """May one more drop on `channel` reach the contact at `now`, given when earlier drops reached it?

    `sends` are the times of the contact's other drops on this channel (sent, unconfirmed or being sent).
    """
    tz = _zone(time_zone)
    blocks: list[tuple[datetime, str, str]] = []
    if snoozed_until is not None and snoozed_until > now:
        blocks.append((snoozed_until, "snooze", f"the contact snoozed email until {snoozed_until.isoformat()}"))
    if min_gap > timedelta(0) and sends:
        last = max(sends)
        if last + min_gap > now:
            until = last + min_gap
            blocks.append(
                (until, "minimum gap", f"last drop at {last.isoformat()}; next allowed at {until.isoformat()}")
            )
    for rule in rules:
        if rule.channel != channel:
            continue
        earliest = _rule_earliest(now, sends, rule, tz)
        if earliest is not None and earliest > now:
            detail = f"{rule.label} reached in {time_zone}; next allowed at {earliest.isoformat()}"
            blocks.append((earliest, rule.label, detail))
    if not blocks:
        return Allowed()
    until, rule_label, detail = max(blocks, key=lambda b: b[0])
    return Deferred(until=until, rule=rule_label, detail=detail)
