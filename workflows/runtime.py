"""The durable meaning of every storyboard primitive (`workflows.dsl.Journey`), inside a Temporal workflow.

`JourneyRuntime` is what a storyboard's `j` is. It wires one part per role and keeps the primitives' own loops:
- `journal` (continue-as-new and fast-forward), `rollover` (when to start a new run),
- `timers` (naps with one durable timer each), `inbox` (signals in, matching for waits),
- `sending` (drops and the minimum gap), `offers` (broadcasts), `sales` (readiness, handoff, verdict),
- `visibility` (current details, search attributes) and `status` (the query's answer).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from nurture import search_attributes, temporal_names
    from workflows import dsl
    from workflows.calendar import next_window_start
    from workflows.calls import Calls
    from workflows.ending import check_exit
    from workflows.experiments import in_holdout
    from workflows.inbox import Inbox, decode_happened, encode_happened
    from workflows.journal import Journal
    from workflows.offers import Offers
    from workflows.payloads import JournalEntry, JourneyCarry, JourneyInput, JourneyStatus, ReachStageInput
    from workflows.retry import QUICK_RETRY
    from workflows.rhythm import RhythmKeeper
    from workflows.sales import Sales
    from workflows.sending import Sender
    from workflows.status import journey_status
    from workflows.step_results import decode_answer, decode_drop
    from workflows.timers import Timers
    from workflows.variants import variant
    from workflows.visibility import Visibility, human


PATCH_HOLDOUT = "holdout"  # journal + workflow.patched id of the journey's holdout (`JourneyRuntime.begin`)


class JourneyRuntime:
    """Implements `dsl.Journey` for one contact; owned by `JourneyWorkflow`."""

    def __init__(self, inp: JourneyInput, spec: dsl.JourneySpec) -> None:
        self.inp = inp
        self.spec = spec
        self.carry: JourneyCarry = inp.carry or JourneyCarry()
        if self.carry.started_at is None:
            self.carry.started_at = workflow.now()
        self.shown = Visibility(inp, spec, self.carry)
        self.timers = Timers(inp, self.carry, self.shown, self._tend)
        self.journal = Journal(inp, spec, self.carry, self.shown, self.timers)
        self.inbox = Inbox(inp, self.carry)
        self.sender = Sender(inp, spec, self.carry, self.shown, self.timers)
        self.offers = Offers(inp, spec, self.carry, self.shown, self.sender, self)
        self.sales = Sales(inp, spec, self.carry, self.shown, self.timers, self._tend)
        self.calls = Calls(inp, spec, self.carry, self.shown, self.timers, self._tend)
        self.rhythm = RhythmKeeper(inp, spec, self.carry)

    def begin(self) -> None:
        """Before the storyboard's first step: whether this contact is in the journey's holdout.

        Versioned like a storyboard change (`Journal.changed`, patch id `PATCH_HOLDOUT`): a journey that began
        before holdouts existed (its saved history or its journal has no such mark) keeps being sent what it was
        being sent; every journey beginning afterwards is assigned from its contact id and the declared share.
        The mark is recorded whatever the share, so declaring, changing or removing a holdout later never
        changes which commands a running journey replays.
        """
        begun_under_it = self.inp.runtime_version >= 3 or self.journal.changed(PATCH_HOLDOUT)  # v3+: no marker
        if begun_under_it and self.spec.holdout > 0:
            self.sender.held_out = in_holdout(self.spec.key, self.spec.holdout, self.inp.contact_id)

    # ---- storyboard-visible state ----------------------------------------------------------------------

    @property
    def contact_id(self) -> int:
        return self.inp.contact_id

    @property
    def persona(self) -> str:
        return self.inp.persona

    @property
    def topics(self) -> frozenset[str]:
        chosen = self.carry.topics
        return frozenset(self.inp.topics if chosen is None else chosen)

    @property
    def stage(self) -> str:
        return str(self.journal.view().stage)

    @property
    def score(self) -> float:
        return float(self.journal.view().score)

    @property
    def grade(self) -> dsl.FitGrade:
        return dsl.FitGrade(self.journal.view().grade)

    @property
    def drops_sent(self) -> int:
        return int(self.journal.view().drops_sent)

    @property
    def catalog_exhausted(self) -> bool:
        return bool(self.journal.view().catalog_exhausted)

    @property
    def rejection_reason(self) -> str | None:
        value = self.journal.view().rejection_reason
        return None if value is None else str(value)

    @property
    def now(self) -> datetime:
        return self.journal.now()

    def decide(self, decision: str, why: str) -> None:
        if not self.journal.fast_forwarding:
            self.shown.decide(decision, why)
            self.shown.publish()

    # ---- primitives -------------------------------------------------------------------------------------

    async def drop(
        self,
        why: str = "",
        *,
        topic: str | None = None,
        item: str | None = None,
        wait_out_gap: bool = True,
        priority: int | None = None,
    ) -> dsl.DropResult:
        if item is not None and item not in self.spec.catalog:
            raise ValueError(f"journey {self.spec.key}: item {item!r} is not in its catalog")
        raw = await self.journal.step("drop", lambda entry: self.sender.drop(why, topic, item, wait_out_gap, priority))
        return decode_drop(raw)

    async def sleep(self, duration: timedelta, why: str = "") -> None:
        await self._sleep(duration, why, on_schedule=False)

    async def sleep_until(self, at: datetime, why: str = "") -> None:
        await self._sleep(at - self.now, why, on_schedule=True)

    async def _sleep(self, duration: timedelta, why: str, *, on_schedule: bool) -> None:
        async def live(entry: JournalEntry) -> None:
            if entry.wake_at is None:
                span = self.timers.scaled(duration)
                moved = self.rhythm.push() if on_schedule else -self.rhythm.cut(span)
                entry.wake_at = workflow.now() + span + moved
            await self.timers.sleep_until(entry, f"sleeping {human(duration)}" + (f": {why}" if why else ""))

        await self.journal.step("sleep", live)

    async def until_send_window(self) -> None:
        async def live(entry: JournalEntry) -> None:
            window = self.spec.send_window
            if window is None or self.inp.time_scale != 1.0:
                return
            if entry.wake_at is None:
                opens = next_window_start(workflow.now(), window, self.inp.time_zone)
                if opens <= workflow.now():
                    return
                entry.wake_at = opens
            await self.timers.sleep_until(entry, "waiting for the send window")

        await self.journal.step("window", live)

    async def wait_for(self, *what: dsl.Matcher, timeout: timedelta) -> dsl.Happened | None:
        if not what:
            raise ValueError("wait_for needs at least one thing to wait for")
        result = await self.journal.step("wait", lambda entry: self._live_wait(entry, what, timeout))
        return decode_happened(result)

    async def ready(self, why: str = "") -> bool:
        return await self.journal.step("ready", lambda entry: self.sales.ready(why)) == "1"

    async def reach_stage(self, stage: str, why: str) -> bool:
        async def live(entry: JournalEntry) -> str:
            moved: bool = await workflow.execute_activity(
                temporal_names.ACTIVITY_REACH_STAGE,
                ReachStageInput(self.inp.contact_id, stage, workflow.info().workflow_id, why, workflow.now()),
                result_type=bool,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=QUICK_RETRY,
                summary=f"contact {self.inp.contact_id} reaches {stage}",
            )
            self.shown.decide(f"lifecycle stage {stage}" if moved else f"stays before {stage}", why)
            if moved:
                self.shown.show_lifecycle_stage(stage)
            return "1" if moved else "0"

        return await self.journal.step("stage", live) == "1"

    async def hand_off(self, why: str = "") -> dsl.SalesAnswer:
        await self.journal.step("handoff", lambda entry: self.sales.hand_off(why))
        raw = await self.journal.step("feedback", self.sales.feedback)
        return decode_answer(raw, legacy_reason=self.rejection_reason or "")

    async def cool_down(self) -> None:
        await self.journal.step("cooldown", self.sales.cool_down)

    async def call_task(self, why: str, timeout: timedelta) -> dsl.CallOutcome:
        await self.journal.step("call", lambda entry: self.calls.ask(why))
        raw = await self.journal.step("callwait", lambda entry: self.calls.wait(entry, timeout))
        return dsl.CallOutcome(raw or dsl.CallOutcome.TIMED_OUT)

    def changed(self, change_id: str) -> bool:
        return self.journal.changed(change_id)

    async def variant(self, key: str, arms: Sequence[str], weights: Sequence[float] | None = None) -> str:
        return await variant(self.journal, self.carry, self.shown, self.inp.contact_id, key, arms, weights)

    async def _live_wait(self, entry: JournalEntry, what: tuple[dsl.Matcher, ...], timeout: timedelta) -> str | None:
        carry = self.carry
        if entry.wake_at is None:
            span = self.timers.scaled(timeout)
            entry.wake_at = workflow.now() + span - self.rhythm.cut(span)
        label = "waiting for " + " or ".join(str(m) for m in what)
        while True:
            await self._tend(entry)
            hit = self.inbox.match(what)
            if hit is not None:
                carry.consumed_seq = hit.seq
                self.shown.decide(f"heard {hit.kind}", f"{hit.url or hit.item_id or hit.broadcast_kind or ''}".strip())
                return encode_happened(hit)
            if workflow.now() >= entry.wake_at:
                carry.consumed_seq = carry.inbox_seq
                self.shown.decide("wait timed out", f"{label}: nothing within {human(timeout)}")
                return None
            seen = carry.inbox_seq
            await self.timers.nap(entry.wake_at, label, self.inbox.changed_since(seen))

    async def _tend(self, entry: JournalEntry) -> None:
        """On every wake-up: end the journey if an exit arrived, then act on broadcasts."""
        check_exit(self.carry)
        await self.offers.handle(entry)

    # ---- the end, and the status query ------------------------------------------------------------------

    def outcome_of_return(self) -> str:
        """How a journey whose storyboard returned ended: "customer" after sales accepted, else "completed"."""
        return "customer" if self.carry.phase == "customer" else "completed"

    async def close(self, outcome: str) -> None:
        """The storyboard returned or the journey ended early: show how, and settle unhandled broadcasts."""
        carry = self.carry
        carry.phase = search_attributes.PHASE_ENDED  # one word for every ended journey; the outcome says how
        self.shown.step = f"ended: {outcome}"
        self.shown.decide(f"journey ended: {outcome}", carry.last_why if outcome == "customer" else outcome)
        if self.inp.runtime_version >= 4:  # no upsert: the closed execution's status and result say it all
            self.shown.next_wake_at = None
            self.shown.publish(flush=False)
        elif self.inp.runtime_version >= 2:  # one upsert: what changed, phase ended, no next wake-up
            self.shown.next_wake_at = None
            self.shown.publish(flush=True)
        else:  # as journeys started before runtime version 2 recorded it (their histories replay unchanged)
            self.shown.publish(flush=True, closing=True)
            if workflow.patched(search_attributes.PATCH_PHASE_ENDED):  # histories from before it replay without
                workflow.upsert_search_attributes(
                    [
                        search_attributes.SA_PHASE.value_set(search_attributes.PHASE_ENDED),
                        search_attributes.SA_NEXT_DROP_AT.value_unset(),
                    ]
                )
        await self.offers.settle(outcome)

    def status(self) -> JourneyStatus:
        return journey_status(self.inp, self.spec, self.carry, self.shown)
