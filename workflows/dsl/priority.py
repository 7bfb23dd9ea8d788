"""Drop priorities: when caps hold several drops back for one contact, the highest goes first."""

from __future__ import annotations

from enum import IntEnum


class Priority(IntEnum):
    """Which held-back drop goes first for one contact (higher first); `nurture.db.DropPriority` stores these."""

    DRIP = 10  # the journey's regular rhythm
    MILESTONE = 20  # a lifecycle milestone (welcome, renewal)
    BROADCAST = 30  # a time-critical broadcast
    SALES = 40  # sales asked for it
