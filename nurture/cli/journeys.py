"""`nurture worker | enroll | event | status | journeys`: operate journeys from a terminal.

Writes go through the same path as the HTTP service (contacts, events and an outbox in one transaction), then
a relay pass delivers the outbox to Temporal; if Temporal is down the rows wait for the next relay.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from nurture import keys
from nurture.cli import app
from nurture.cli.common import console, err_console, run_and_exit, settings_for_cli
from nurture.cli.validate import ContactRow, RowError, read_contacts_csv, validate_contact
from nurture.clock import utcnow
from nurture.context import AppContext, app_context
from nurture.inbound import outbox
from nurture.inbound.contacts import unsubscribe, upsert_contact
from nurture.inbound.sales import VerdictRefusedError, open_handoff, record_verdict
from nurture.inbound.web import PageViewIn, store_page_view, store_web_engagement
from nurture.outbound.relay import OutboxRelay
from workflows.dsl import REGISTRY
from workflows.payloads import JourneyStatus


@app.command()
def worker() -> None:
    """Run a worker: every journey and broadcast workflow and every activity."""
    from workers.journey_worker import run_worker

    run_and_exit(_forever(run_worker(settings_for_cli())))


async def _forever(coro: Any) -> int:
    await coro
    return 0


# ---- enroll --------------------------------------------------------------------------------------------


@app.command()
def enroll(
    email: Annotated[str | None, typer.Option(help="One contact's email (or use --csv)")] = None,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="CSV with a header row: email,first_name,...")] = None,
    journey: Annotated[
        str | None, typer.Option(help="Journey key; default: the journeys whose entry rules match")
    ] = None,
    first_name: str = "",
    last_name: str = "",
    company: str = "",
    persona: str = "general",
    time_zone: str = "UTC",
    topics: Annotated[str, typer.Option(help="Comma-separated interests, e.g. mowers,lawn-care")] = "",
    consent_source: Annotated[str, typer.Option(help="Where the opt-in came from (kept with the consent)")] = "cli",
    time_scale: Annotated[float, typer.Option(help="Compress journey time (demo); 1 = real time")] = 1.0,
) -> None:
    """Create or update contacts with their consent and enroll them (one contact, or a CSV file).

    The whole file is validated first: one bad row refuses the file, with every problem listed, and nothing is
    written. Re-running the same file is harmless (contacts are upserted, journeys run once per contact).
    """
    settings = settings_for_cli()
    if journey is not None and journey not in REGISTRY:
        err_console.print(f"[red]unknown journey {journey!r}[/red]; known: {', '.join(sorted(REGISTRY))}")
        raise typer.Exit(2)
    if (email is None) == (csv_file is None):
        err_console.print("[red]give either --email or --csv[/red]")
        raise typer.Exit(2)
    try:
        if csv_file is not None:
            rows = read_contacts_csv(csv_file)
        else:
            assert email is not None
            one = {
                "email": email, "first_name": first_name, "last_name": last_name, "company": company,
                "persona": persona, "time_zone": time_zone, "topics": topics, "consent_source": consent_source,
            }  # fmt: skip
            rows = [validate_contact(one, line=0)]
    except RowError as err:
        err_console.print(f"[red]nothing imported:[/red]\n{err}")
        raise typer.Exit(2) from err
    except (OSError, csv.Error, UnicodeDecodeError) as err:
        err_console.print(f"[red]cannot read {csv_file}:[/red] {err}")
        raise typer.Exit(2) from err
    run_and_exit(_enroll(settings, rows, journey, time_scale))


async def _enroll(settings: Any, rows: list[ContactRow], journey: str | None, time_scale: float) -> int:
    async with app_context(settings) as ctx:
        now = utcnow()
        planned: list[tuple[int, str]] = []
        with ctx.engine.begin() as conn:  # one transaction: the whole file or nothing
            for row in rows:
                outcome = upsert_contact(conn, row.to_contact_in(now), now, time_scale=time_scale)
                if journey and outcome.status == "active" and journey not in outcome.journeys:
                    current = outbox.journeys_of(conn, [outcome.contact_id]).get(outcome.contact_id, [])
                    if journey not in current:
                        outbox.write(conn, outbox.enroll_rows(outcome.contact_id, [journey], time_scale), now)
                        outcome.journeys.append(journey)
                if outcome.status != "active":
                    console.print(f"contact {outcome.contact_id}: {outcome.status}, not enrolled")
                planned += [(outcome.contact_id, j) for j in outcome.journeys]  # everything queued is delivered
        await _drain_with_progress(ctx, len(planned), "enrolling")
        console.print(f"{len(rows)} contact(s) saved; {len(planned)} enrollment(s) delivered.")
        for contact_id, key in planned[:10]:
            console.print(f"  contact {contact_id} -> {keys.journey_workflow_id(key, contact_id)}")
    return 0


async def _drain_with_progress(ctx: AppContext, expected: int, label: str) -> None:
    """Deliver the outbox now, with a progress bar; rows Temporal refuses wait for the next relay."""
    relay = OutboxRelay(ctx)
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(label, total=max(expected, 1))
        delivered = 0
        for _ in range(1000):
            done = await relay.deliver_pending()
            delivered += len(done.delivered)
            bar.update(task, completed=min(delivered, expected))
            if done.unreachable:
                err_console.print("[yellow]Temporal is unreachable: the rest waits in the outbox[/yellow]")
                return
            if done.fetched == 0:
                break
        bar.update(task, completed=max(expected, 1))


# ---- event ---------------------------------------------------------------------------------------------

EVENT_KINDS = ("page_view", "opened", "clicked", "unsubscribe", "sales_accepted", "sales_rejected")


@app.command()
def event(
    contact_id: Annotated[int, typer.Argument(help="The contact")],
    kind: Annotated[str, typer.Argument(help=" | ".join(EVENT_KINDS))],
    url: Annotated[str | None, typer.Option(help="Page URL (page_view) or link URL (clicked)")] = None,
    item: Annotated[str | None, typer.Option(help="Catalog item the open/click was on")] = None,
    topic: str | None = None,
    reason: Annotated[str, typer.Option(help="Sales feedback reason")] = "",
    journey: Annotated[str | None, typer.Option(help="Sales feedback: which journey (default: all)")] = None,
) -> None:
    """Deliver an event to a contact's journeys (stored and scored like any other event)."""
    settings = settings_for_cli()
    if kind not in EVENT_KINDS:
        err_console.print(f"[red]unknown event kind {kind!r}[/red]; use one of {', '.join(EVENT_KINDS)}")
        raise typer.Exit(2)
    if kind == "page_view" and not url:
        err_console.print("[red]page_view needs --url[/red]")
        raise typer.Exit(2)
    run_and_exit(_event(settings, contact_id, kind, url, item, topic, reason, journey))


async def _event(
    settings: Any, contact_id: int, kind: str, url: str | None, item: str | None, topic: str | None,
    reason: str, journey: str | None,
) -> int:  # fmt: skip
    async with app_context(settings) as ctx:
        if kind.startswith("sales_"):
            return await _sales_feedback(ctx, contact_id, kind == "sales_accepted", reason, journey)
        now = utcnow()
        try:
            with ctx.engine.begin() as conn:
                if kind == "page_view":
                    assert url is not None
                    stored = store_page_view(
                        conn, PageViewIn(url=url, occurred_at=now, contact_id=contact_id, topic=topic), now
                    )
                elif kind == "unsubscribe":
                    stored = unsubscribe(conn, contact_id, now, how="cli")
                else:
                    stored = store_web_engagement(
                        conn, contact_id=contact_id, kind=kind, token=f"cli:{now.isoformat()}", touch_id=None,
                        item_id=item, url=url, now=now,
                    )  # fmt: skip
        except LookupError as err:
            err_console.print(f"[red]{err}[/red]")
            return 2
        await _drain_with_progress(ctx, stored.signals, "signalling")
        console.print(f"stored {stored.stored} event(s); {stored.signals} signal(s) to journeys that listen for it")
    return 0


async def _sales_feedback(ctx: AppContext, contact_id: int, accepted: bool, reason: str, journey: str | None) -> int:
    """The same verdict as the CRM's HTTP door (`nurture.inbound.sales`), for the contact's open handoff."""
    try:
        with ctx.engine.begin() as conn:
            handoff_id = open_handoff(conn, contact_id, journey)
            if handoff_id is None:
                err_console.print(f"[red]contact {contact_id} has no handoff waiting for sales[/red]")
                return 2
            verdict = record_verdict(conn, handoff_id, accepted, reason, utcnow())
    except VerdictRefusedError as err:
        err_console.print(f"[red]{err}[/red]")
        return 2
    if verdict.queued:
        await _drain_with_progress(ctx, 1, "signalling")
    console.print(f"handoff {handoff_id}: {verdict.status}" + ("" if verdict.queued else " (already recorded)"))
    return 0


# ---- status / journeys -----------------------------------------------------------------------------------


@app.command()
def status(
    contact_id: Annotated[int, typer.Argument(help="The contact")],
    journey: Annotated[str | None, typer.Option(help="Only this journey")] = None,
) -> None:
    """Where a contact is in each journey: step, stage, lead score, next wake-up, drops, last decision and why."""
    settings = settings_for_cli()
    run_and_exit(_status(settings, contact_id, journey))


async def _status(settings: Any, contact_id: int, journey: str | None) -> int:
    async with app_context(settings) as ctx:
        keys_ = [journey] if journey else await _journeys_of(ctx.client, contact_id)
        if not keys_:
            err_console.print(f"[yellow]contact {contact_id} has no journeys[/yellow]")
            return 1
        for key in keys_:
            workflow_id = keys.journey_workflow_id(key, contact_id)
            handle = ctx.client.get_workflow_handle(workflow_id)
            try:
                st: JourneyStatus = await handle.query(keys.QUERY_STATUS, result_type=JourneyStatus)
                described = await handle.describe()
            except RPCError as err:
                err_console.print(f"[yellow]{workflow_id}: {err.message}[/yellow]")
                continue
            console.print(_status_table(st, workflow_id, described.status.name if described.status else "?"))
            console.print(f"  UI: {ui_link(settings, workflow_id)}\n")
    return 0


async def _journeys_of(client: Client, contact_id: int) -> list[str]:
    query = f"{keys.SA_CONTACT.name} = '{contact_id}' AND WorkflowType = '{keys.JOURNEY_WORKFLOW}'"
    found: list[str] = []
    async for wf in client.list_workflows(query):
        value = wf.typed_search_attributes.get(keys.SA_JOURNEY)
        if value and value not in found:
            found.append(value)
    return found


def _when(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else "-"


def _status_table(st: JourneyStatus, workflow_id: str, execution: str) -> Table:
    table = Table(title=f"{st.journey} · contact {st.contact_id} · {execution.lower()}", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    rows = [
        ("workflow id", workflow_id),
        ("phase", st.phase),
        ("step", st.step),
        ("stage", st.stage),
        ("lead score", f"{st.lead_score:.1f}"),
        ("next wake-up", _when(st.next_wake_at)),
        ("drops sent", f"{st.drops_sent}: {', '.join(st.items_sent) or '-'}"),
        ("last decision", st.last_decision or "-"),
        ("why", st.why or "-"),
        ("broadcasts", f"{len(st.handled_broadcasts)} handled, {st.pending_broadcasts} pending"),
        ("signals heard", str(st.signals_received)),
        ("experiments", ", ".join(f"{k}: {v}" for k, v in sorted(st.variants.items())) or "-"),
        ("run", str(st.run)),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def ui_link(settings: Any, workflow_id: str) -> str:
    from urllib.parse import quote

    base = f"http://localhost:{settings.temporal_ui_port}/namespaces/{settings.temporal_namespace}"
    return f"{base}/workflows/{quote(workflow_id, safe='')}"


@dataclass(frozen=True)
class _Filter:
    journey: str | None
    stage: str | None
    phase: str | None
    min_score: float | None
    running: bool

    def query(self) -> str:
        parts = [f"WorkflowType = '{keys.JOURNEY_WORKFLOW}'"]
        if self.running or self.phase is not None:  # a phase is a running journey's; ended ones keep their last
            parts.append("ExecutionStatus = 'Running'")
        for key, value in ((keys.SA_JOURNEY, self.journey), (keys.SA_STAGE, self.stage), (keys.SA_PHASE, self.phase)):
            if value is not None:
                if "'" in value:
                    raise typer.BadParameter(f"invalid value {value!r}")
                parts.append(f"{key.name} = '{value}'")
        if self.min_score is not None:
            parts.append(f"{keys.SA_LEAD_SCORE.name} >= {float(self.min_score)}")
        return " AND ".join(parts)


@app.command()
def journeys(
    journey: Annotated[str | None, typer.Option(help="Journey key")] = None,
    stage: Annotated[str | None, typer.Option(help="awareness | consideration | decision")] = None,
    phase: Annotated[str | None, typer.Option(help="nurturing | with_sales | cooling_down")] = None,
    min_score: Annotated[float | None, typer.Option(help="Lead score at least")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Include ended journeys")] = False,
    limit: int = 50,
) -> None:
    """List journeys from Temporal visibility, filtered by journey, stage, phase and lead score."""
    settings = settings_for_cli()
    flt = _Filter(journey, stage, phase, min_score, running=not all_)
    run_and_exit(_list(settings, flt, limit))


async def _list(settings: Any, flt: _Filter, limit: int) -> int:
    async with app_context(settings) as ctx:
        query = flt.query()
        table = Table(title=f"journeys where {query}")
        for column in ("contact", "journey", "phase", "stage", "score", "drops", "next drop", "status"):
            table.add_column(column)
        count = 0
        async for wf in ctx.client.list_workflows(query, limit=limit):
            sa = wf.typed_search_attributes
            running = wf.status == WorkflowExecutionStatus.RUNNING
            table.add_row(
                str(sa.get(keys.SA_CONTACT) or "-"),
                str(sa.get(keys.SA_JOURNEY) or "-"),
                str(sa.get(keys.SA_PHASE) or "-") if running else "ended",  # an ended one keeps its last phase
                str(sa.get(keys.SA_STAGE) or "-"),
                f"{sa.get(keys.SA_LEAD_SCORE) or 0:.1f}",
                str(sa.get(keys.SA_DROPS_SENT) or 0),
                _when(sa.get(keys.SA_NEXT_DROP_AT)) if running else "-",
                wf.status.name.lower() if wf.status else "?",
            )
            count += 1
        console.print(table)
        console.print(f"{count} journey(s)")
    return 0
