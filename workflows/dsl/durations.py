"""Durations a storyboard reads aloud: `weeks(2)`, `days(1)`, `hours(4)`, `minutes(30)`."""

from __future__ import annotations

from datetime import timedelta


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def days(n: float) -> timedelta:
    return timedelta(days=n)


def weeks(n: float) -> timedelta:
    return timedelta(weeks=n)
