"""What a journey shows while it runs: current details for the Temporal UI, search attributes for ops.

Current details (`workflow.set_current_details`) are refreshed on every state change; search attributes only
where the journey is about to block, and only those that changed. Nothing is shown while fast-forwarding.

From runtime version 5, NurtureDropsSent lags behind broadcast drops: a broadcast drop's count rides along with
the journey's next upsert (its next scheduled drop, a stage, score or phase change) instead of costing
an upsert of its own on every journey a broadcast reaches (a history event and a visibility-row write each: most
of the server's CPU per act above the bare floor, bench/README.md). Scheduled drops are counted at once as before.
A journey that ends first keeps the lagging count on its closed execution (from version 4 the end upserts
nothing); its result (`JourneyResult.drops_sent`) has the true one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeKey, SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from nurture import search_attributes
    from workflows import dsl
    from workflows.payloads import JourneyCarry, JourneyInput
    from workflows.runtime_version import runtime_change

RIDE_ALONG_VERSION = 5  # `JourneyInput.runtime_version` from which broadcast drops' counts ride along

_UPSERTED: tuple[SearchAttributeKey[Any], ...] = (
    search_attributes.SA_STAGE,
    search_attributes.SA_LEAD_SCORE,
    search_attributes.SA_DROPS_SENT,
    search_attributes.SA_PHASE,
    search_attributes.SA_NEXT_DROP_AT,
)


class Visibility:
    """The journey's shown state: step, next wake-up, last decision, and what has been upserted."""

    def __init__(self, inp: JourneyInput, spec: dsl.JourneySpec, carry: JourneyCarry) -> None:
        self._inp = inp
        self._spec = spec
        self._carry = carry
        self.step = "starting"
        self.next_wake_at: datetime | None = None
        self.muted = False  # set by the journal while it fast-forwards
        self._sa_last: dict[str, Any] = {}
        self._drops_may_lag_at: int | None = None  # a NurtureDropsSent that may ride along (`broadcast_dropped`)

    def decide(self, decision: str, why: str) -> None:
        self._carry.last_decision, self._carry.last_why = decision, why

    def publish(self, *, flush: bool = False, closing: bool = False) -> None:
        """Current details for the UI; with `flush`, search attributes for ops (only those that changed).

        Flushing only where the workflow is about to block coalesces a step's changes into one upsert. When the
        journey is `closing`, phase and next wake-up are left as they were: the closed execution's status and
        result say how it ended, and an upsert that only restates that is a history event for nothing.
        """
        if self.muted:
            return
        workflow.set_current_details(self._details())
        if flush:
            self._flush_search_attributes(closing=closing)

    def broadcast_dropped(self) -> None:
        """A broadcast drop was counted: from runtime version 5 the new NurtureDropsSent waits for the next upsert
        (it is eventually right while the journey runs: every later upsert carries it, and a scheduled drop upserts)."""
        if self._inp.runtime_version >= RIDE_ALONG_VERSION:
            self._drops_may_lag_at = self._carry.drops_sent

    def show_lifecycle_stage(self, stage: str) -> None:
        """A journey step moved the contact's lifecycle stage: keep it and upsert NurtureLifecycleStage at once
        (a stage move is rare, and ops filter on it); histories recorded before the patch replay without it."""
        if self._carry.lifecycle_stage == stage:
            return
        self._carry.lifecycle_stage = stage
        if runtime_change(self._inp, search_attributes.PATCH_LIFECYCLE_STAGE):
            workflow.upsert_search_attributes([search_attributes.SA_LIFECYCLE_STAGE.value_set(stage)])

    def _flush_search_attributes(self, *, closing: bool = False) -> None:
        carry = self._carry
        wanted: dict[str, Any] = {
            search_attributes.SA_STAGE.name: carry.stage,
            search_attributes.SA_LEAD_SCORE.name: round(carry.score, 2),
            search_attributes.SA_DROPS_SENT.name: carry.drops_sent,
        }
        if not closing:
            wanted[search_attributes.SA_PHASE.name] = carry.phase
            wanted[search_attributes.SA_NEXT_DROP_AT.name] = self.next_wake_at
        if not self._sa_last:
            current = workflow.info().typed_search_attributes
            self._sa_last = {key.name: current.get(key) for key in _UPSERTED}
        changed = {k: v for k, v in wanted.items() if self._sa_last.get(k) != v}
        riding = {search_attributes.SA_NEXT_DROP_AT.name}
        drops = search_attributes.SA_DROPS_SENT.name
        if self._drops_may_lag_at is not None and changed.get(drops) == self._drops_may_lag_at:
            riding.add(drops)  # only broadcast drops since the last upsert (module docstring)
        if not changed.keys() - riding and not self._wakes_earlier(changed):
            # A later next wake-up rides along with the next change ops filter on (stage, score, drops, phase):
            # every upsert is a history event and server work, and the rests and send-window naps between two
            # drops would otherwise cost one each. So NurtureNextDropAt is a lower bound: the journey does
            # nothing scheduled before it. An earlier wake-up (an event brought the next drop forward) is
            # upserted at once, to keep it one.
            return
        updates: list[SearchAttributeUpdate[Any]] = []
        for key in _UPSERTED:
            if key.name in changed:
                value = changed[key.name]
                updates.append(key.value_unset() if value is None else key.value_set(value))
        workflow.upsert_search_attributes(updates)
        self._sa_last.update(changed)

    def _wakes_earlier(self, changed: dict[str, Any]) -> bool:
        name = search_attributes.SA_NEXT_DROP_AT.name
        if name not in changed or changed[name] is None:
            return False
        recorded = self._sa_last.get(name)
        return recorded is None or bool(changed[name] < recorded)

    def _details(self) -> str:
        carry = self._carry
        wake = self.next_wake_at.isoformat(timespec="minutes") if self.next_wake_at else "-"
        return "\n".join(
            [
                f"**{self._spec.key}** for contact `{self._inp.contact_id}` ({self._inp.persona})",
                f"- phase: {carry.phase}; step: {self.step}",
                f"- stage: {carry.stage}; lead score: {carry.score:.1f} (threshold {self._spec.threshold:g})",
                f"- drops sent: {carry.drops_sent} ({', '.join(carry.sent_items[-5:]) or 'none yet'})",
                f"- next wake-up: {wake}",
                f"- last decision: {carry.last_decision or '-'}: {carry.last_why or '-'}",
            ]
        )


def human(duration: timedelta) -> str:
    """Compact and readable: 2w, 3d, 4d 6h, 90m, 12s."""
    seconds = int(duration.total_seconds())
    if seconds <= 0:
        return "0s"
    for unit, size in (("w", 604800), ("d", 86400)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size and len(parts) < 2:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return " ".join(parts)
