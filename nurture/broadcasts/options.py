"""How a broadcast workflow delivers: operational knobs, not part of the broadcast's audit record."""

from __future__ import annotations

from dataclasses import dataclass

MAX_UNREPORTED = 10_000


@dataclass(frozen=True)
class DeliveryOptions:
    """How a broadcast workflow delivers (not part of the audit: operational knobs)."""

    concurrency: int = 32
    page_size: int = 1000
    chunk_seconds: float = 2.0
    settle_seconds: float = 120.0
    max_unreported: int = 256  # backpressure: signalled journeys that may not have reported yet (0: no limit)
    confirm_seconds: float = 5.0  # pause/resume/cancel wait this long for the workflow to confirm

    def __post_init__(self) -> None:
        # the window's ids travel in every chunk's input, result and heartbeat (~60 bytes each): 10,000 is ~600 KB,
        # well inside Temporal's 2 MB payload limit
        if not 0 <= self.max_unreported <= MAX_UNREPORTED:
            raise ValueError(f"max_unreported must be between 0 and {MAX_UNREPORTED}, not {self.max_unreported}")
