"""The one wall clock outside Temporal.

Workflows use `workflow.now()` and pass it to activities; only edges (HTTP, CLI) read the wall clock, here.
"""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Aware current time in UTC."""
    return datetime.now(UTC)  # noqa: TID251 - the single sanctioned wall clock
