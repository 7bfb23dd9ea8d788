"""The journal: continue-as-new without losing the storyboard's place.

Each primitive appends a `JournalEntry` (what it returned, and the storyboard-visible state after it). A new run
re-enters the storyboard from the top and fast-forwards through finished entries without side effects, then
resumes the unfinished one (a sleep or a wait keeps its absolute wake time). The journal grows by one small entry
per primitive, not per signal.

Only the `live` callables (and signal handlers) mutate state; storyboard-level code never does, so
fast-forwarding is exact.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows import dsl
    from workflows.payloads import JournalEntry, JourneyCarry, JourneyInput, StoryView
    from workflows.rollover import continue_as_new_if_due
    from workflows.timers import Timers
    from workflows.visibility import Visibility

Live = Callable[[JournalEntry], Awaitable[str | None]]


class JourneyChangedError(RuntimeError):
    """The storyboard took a different path than its journal: the definition changed incompatibly."""


class Journal:
    def __init__(
        self, inp: JourneyInput, spec: dsl.JourneySpec, carry: JourneyCarry, shown: Visibility, timers: Timers
    ) -> None:
        self._inp = inp
        self._spec = spec
        self._carry = carry
        self._shown = shown
        self._timers = timers
        self._cursor = 0
        self._replay_view: StoryView | None = None
        if carry.journal:
            self._set_replay_view(self._initial_view())

    @property
    def fast_forwarding(self) -> bool:
        return self._replay_view is not None

    def view(self) -> StoryView:
        """The storyboard-visible state: as it was at this point while fast-forwarding, else the truth."""
        return self._replay_view if self._replay_view is not None else self.truth()

    def now(self) -> datetime:
        if self._replay_view is not None and self._replay_view.now is not None:
            return self._replay_view.now
        return self.clock()

    def clock(self) -> datetime:
        if self._inp.time_scale == 1.0:
            return workflow.now()
        epoch = self._carry.started_at or workflow.info().start_time
        return epoch + (workflow.now() - epoch) * self._inp.time_scale

    def truth(self) -> StoryView:
        carry = self._carry
        return StoryView(
            stage=carry.stage,
            score=carry.score,
            drops_sent=carry.drops_sent,
            catalog_exhausted=self._spec.catalog.next_item(self._inp.persona, carry.stage, carry.offered_items) is None,
            rejection_reason=carry.rejection_reason,
            now=self.clock(),
            grade=carry.grade,
        )

    def _initial_view(self) -> StoryView:
        fresh = JourneyCarry()
        first = self._spec.catalog.next_item(self._inp.persona, fresh.stage, [])
        return StoryView(
            stage=fresh.stage, score=fresh.score, catalog_exhausted=first is None, now=self._carry.started_at
        )

    def _set_replay_view(self, view: StoryView | None) -> None:
        self._replay_view = view
        self._shown.muted = view is not None

    def changed(self, change_id: str) -> bool:
        """`Journey.changed`: journalled, so a later run fast-forwards through the same branch it took.

        A journal written before this change has no entry for it here: the old branch, without consuming anything.
        Live, `workflow.patched` decides (False only while replaying history from before the change).
        """
        journal = self._carry.journal
        tag = f"{change_id}:"
        if self._cursor < len(journal):
            entry = journal[self._cursor]
            if entry.op != "changed" or not (entry.result or "").startswith(tag):
                return False
            self._cursor += 1
            self._set_replay_view(entry.view if self._cursor < len(journal) else None)
            return (entry.result or "").endswith(":1")
        taken = workflow.patched(change_id)
        journal.append(JournalEntry(op="changed", result=f"{tag}{int(taken)}", done=True, view=self.truth()))
        self._cursor += 1
        return taken

    async def step(self, op: str, live: Live) -> str | None:
        """Run one primitive: its journalled result while fast-forwarding, else `live(entry)` (once)."""
        journal = self._carry.journal
        if self._cursor < len(journal):
            entry = journal[self._cursor]
            if entry.op != op:
                raise JourneyChangedError(
                    f"journey {self._spec.key}: step {self._cursor} was {entry.op!r}, storyboard now asks {op!r}"
                    " (wrap changes to a live journey in `if j.changed(...)`)"
                )
            if entry.done:
                self._cursor += 1
                self._set_replay_view(entry.view if self._cursor < len(journal) else None)
                return entry.result
        else:
            entry = JournalEntry(op=op)
            journal.append(entry)
        self._set_replay_view(None)
        await continue_as_new_if_due(self._inp, self._carry)
        result = await live(entry)
        self._timers.end_nap()  # a step that is over owes no timer (answered waits, a wait that ended with a signal)
        entry.result, entry.done, entry.wake_at = result, True, None
        entry.view = self.truth()
        self._cursor += 1
        self._shown.publish()
        return result
