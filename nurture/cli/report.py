"""`nurture report funnel|uplift JOURNEY --out FILE.svg|png|html`: the console's charts as files for an email or
a slide, read from the database (never from Temporal)."""

from __future__ import annotations

from pathlib import Path

import typer

from nurture.cli import app
from nurture.cli.common import console, err_console, settings_for_cli
from nurture.context import open_engine
from nurture.measure import charts
from nurture.measure.arms import Outcome, comparisons
from nurture.measure.funnel import funnel
from workflows import dsl
from workflows.experiments import Experiment

report_app = typer.Typer(name="report", help="Funnel and uplift reports as SVG, PNG or HTML.", no_args_is_help=True)
app.add_typer(report_app)

OUT = typer.Option(..., "--out", help="FILE.svg, FILE.png or FILE.html")


def _checked(out: Path) -> Path:
    if out.suffix.lower() not in charts.FORMATS:
        err_console.print(f"[red]--out {out}: write .svg, .png or .html[/red]")
        raise typer.Exit(2)
    return out


@report_app.command("funnel")
def funnel_command(journey: str = typer.Argument(..., help="journey key"), out: Path = OUT) -> None:
    """Per drop position: reached, delivered, opened and clicked by people; exits by reason."""
    _checked(out)
    engine = open_engine(settings_for_cli())
    try:
        with engine.connect() as conn:
            f = funnel(conn, journey)
    finally:
        engine.dispose()
    charts.write(charts.funnel_report(f), out)
    console.print(f"wrote {out} ({f.entered} entered, {len(f.steps)} steps)")


@report_app.command("uplift")
def uplift_command(
    journey: str = typer.Argument(..., help="journey key"),
    out: Path = OUT,
    outcome: str = typer.Option("clicked", help="event kind that counts as converting (people's only)"),
    url_prefix: str | None = typer.Option(None, help="only events on URLs starting with this (a goal page)"),
    window_days: int = typer.Option(14, min=1, help="days after enrollment an outcome counts"),
    holdout: float | None = typer.Option(
        None, min=0.0, max=0.99, help="holdout share; default: the journey's @journey(holdout=...)"
    ),
    experiment: str | None = typer.Option(None, help="experiment key, compared arm by arm against its first arm"),
    arms: str = typer.Option("a,b", help="the experiment's arms, control first (comma-separated)"),
    weights: str | None = typer.Option(None, help="the experiment's weights (comma-separated, as declared)"),
) -> None:
    """Each arm's conversion within the window, the difference with its 95% interval, and a verdict."""
    _checked(out)
    goal = Outcome(outcome, url_prefix)
    if holdout is None:
        spec = dsl.REGISTRY.get(journey)
        holdout = spec.holdout if spec is not None else 0.0
    try:
        exp = None
        if experiment:
            names = [a.strip() for a in arms.split(",") if a.strip()]
            w = [float(x) for x in weights.split(",")] if weights else None
            exp = Experiment.of(experiment, names, w)
    except ValueError as err:
        err_console.print(f"[red]{err}[/red]")
        raise typer.Exit(2) from err
    engine = open_engine(settings_for_cli())
    try:
        with engine.connect() as conn:
            found = comparisons(
                conn, journey, goal, window_days, holdout_share=holdout, experiments=[exp] if exp else []
            )
    finally:
        engine.dispose()
    if not found:
        err_console.print("[red]nothing to compare: give --holdout SHARE and/or --experiment KEY[/red]")
        raise typer.Exit(2)
    charts.write(charts.uplift_report(journey, found), out)
    for u in found:
        console.print(f"{u.treatment.name} vs {u.control.name}: {u.verdict}")
    console.print(f"wrote {out}")
