"""How a journey ends early: an exception raised through the storyboard, and the exit check every step makes."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.payloads import JourneyCarry


class JourneyEnded(Exception):
    """Raised through the storyboard to end the journey at once (exit signal, suppression, acceptance)."""

    def __init__(self, outcome: str, detail: str = "") -> None:
        super().__init__(outcome)
        self.outcome = outcome
        self.detail = detail


def check_exit(carry: JourneyCarry) -> None:
    """End the journey now if an exit signal (unsubscribe, bounce, manual) has arrived."""
    if carry.exit_reason is not None:
        raise JourneyEnded(carry.exit_reason, "exit signal")
