"""What a broadcast learns from one journey's send: its outcome row's (outcome, reason).

Pure, shared by the workflow (`workflows.offers`) and the `drop_broadcast` activity that sends and records in one
local activity, so the recorded words are the same whichever of the two writes them.
"""

from __future__ import annotations

from workflows.payloads import SendDropResult


def sent_offer_outcome(result: SendDropResult, item_id: str) -> tuple[str, str] | None:
    """The outcome of a broadcast drop; None for a suppressed contact, whose journey ends and records it itself."""
    if result.status == "suppressed":
        return None
    if result.status == "deferred" and result.deferred_until is not None:
        # the claim's reason names the rule that blocked it (minimum gap, a cap, snooze, quiet time, priority)
        return "deferred", f"{result.detail or 'held back'}; due {result.deferred_until.isoformat()}"
    if result.status in ("duplicate", "declined", "expired"):  # declined: the contact's topics; expired waiting
        return "skipped", result.detail
    if result.status == "held_out":
        return "skipped", "in the journey's holdout: recorded, not sent"
    if result.status in ("sent", "unconfirmed"):
        return "dropped", f"sent {item_id}"
    return "failed", result.detail
