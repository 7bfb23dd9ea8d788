"""`nurture enroll`: opt contacts in and enroll them in journeys, from one email or a CSV file.

Writes go through the same path as the HTTP service (contacts and an outbox in one transaction), then a relay
pass delivers the outbox to Temporal; if Temporal is down the rows wait for the next relay.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated, Any

import typer

from nurture import workflow_ids
from nurture.cli import app
from nurture.cli.common import console, err_console, run_and_exit, settings_for_cli
from nurture.cli.drain import drain_with_progress
from nurture.cli.validate import ContactRow, RowError, read_contacts_csv, validate_contact
from nurture.clock import utcnow
from nurture.context import app_context
from nurture.inbound import outbox
from nurture.inbound.contacts import upsert_contact
from nurture.journey_client import replaceable
from workflows.dsl import REGISTRY, journeys_for


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
                outcome = upsert_contact(
                    conn, row.to_contact_in(now), now, time_scale=time_scale, redactor=settings.url_redactor
                )
                cid = outcome.contact_id
                if outcome.status != "active":
                    console.print(f"contact {cid}: {outcome.status}, not enrolled")
                    continue
                wanted = [journey] if journey else journeys_for(row.persona, row.topics)
                current = outbox.journeys_of(conn, [cid]).get(cid, [])
                queued = set(outcome.journeys)  # just queued by upsert_contact: not a run to replace
                again = [
                    j
                    for j in wanted
                    if j in current and j not in queued and await replaceable(ctx.client, _wid(j, cid))
                ]
                # entry-rule journeys were queued by upsert_contact; a chosen one is queued here
                fresh = [journey] if journey and journey not in current and journey not in outcome.journeys else []
                if again or fresh:
                    outbox.write(conn, outbox.enroll_rows(cid, [*again, *fresh], time_scale), now)
                    outcome.journeys.extend([*again, *fresh])
                for j in again:
                    console.print(f"contact {cid}: {j} had failed or was stopped; enrolling again")
                if not wanted:
                    console.print(
                        f"contact {cid}: no journey's entry rule matches persona {row.persona!r} and topics"
                        f" {row.topics or '[]'}: not enrolled (give --journey KEY to choose one)"
                    )
                planned += [(cid, j) for j in outcome.journeys]  # everything queued is delivered
        await drain_with_progress(ctx, len(planned), "enrolling")
        console.print(f"{len(rows)} contact(s) saved; {len(planned)} enrollment(s) delivered.")
        for contact_id, key in planned[:10]:
            console.print(f"  contact {contact_id} -> {_wid(key, contact_id)}", soft_wrap=True)
    return 0


def _wid(journey: str, contact_id: int) -> str:
    return workflow_ids.journey_workflow_id(journey, contact_id)
