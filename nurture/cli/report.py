"""`nurture report funnel|uplift JOURNEY --out FILE.svg|png|html`: the console's charts as files for an email or
a slide, read from the database (never from Temporal)."""

from __future__ import annotations

from pathlib import Path

import typer

from nurture.cli import app
from nurture.cli.common import console, err_console, settings_for_cli
from nurture.context import open_engine
from nurture.measure.funnel import funnel
from nurture.measure.outcomes import parse_outcome
from workflows import dsl
from workflows.experiments import Experiment

report_app = typer.Typer(name="report", help="Funnel and uplift reports as SVG, PNG or HTML.", no_args_is_help=True)
app.add_typer(report_app)

OUT = typer.Option(..., "--out", help="FILE.svg, FILE.png or FILE.html")


# The charts (Altair, vl-convert) and the statistics (statsmodels) load inside the commands: seconds of start-up
# that every other `nurture` command would otherwise pay (`nurture.cli.main` registers all commands).


def _checked(out: Path) -> Path:
    from nurture.measure import charts

    if out.suffix.lower() not in charts.FORMATS:
        err_console.print(f"[red]--out {out}: write .svg, .png or .html[/red]")
        raise typer.Exit(2)
    return out


@report_app.command("funnel")
def funnel_command(journey: str = typer.Argument(..., help="journey key"), out: Path = OUT) -> None:
    """Per drop position: reached, delivered, opened and clicked by people; exits by reason."""
    _checked(out)
    from nurture.measure import charts

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
    outcome: str = typer.Option(
        "clicked", help="what counts as converting: an event kind (people's only) or a stage (mql, accepted, customer)"
    ),
    url_prefix: str | None = typer.Option(None, help="only events on URLs starting with this (a goal page)"),
    window_days: int = typer.Option(14, min=1, help="days after enrollment an outcome counts"),
    holdout: bool | None = typer.Option(
        None, "--holdout/--no-holdout", help="compare against the holdout; default: when the journey declares one"
    ),
    experiment: str | None = typer.Option(None, help="one experiment key; default: every experiment declared"),
    arms: str = typer.Option("a,b", help="an undeclared experiment's arms, control first (comma-separated)"),
) -> None:
    """Each arm's conversion within the window, the difference with its 95% interval, and a verdict. Arms are
    what the journey's touches recorded (held out, and `touch.variants`)."""
    _checked(out)
    spec = dsl.REGISTRY.get(journey)
    try:
        goal = parse_outcome(outcome, url_prefix)
        exps = list(spec.experiments) if spec is not None and experiment is None else []
        if experiment:
            declared = spec.experiment(experiment) if spec is not None else None
            exps = [declared or Experiment.of(experiment, [a.strip() for a in arms.split(",") if a.strip()])]
    except ValueError as err:
        err_console.print(f"[red]{err}[/red]")
        raise typer.Exit(2) from err
    if holdout is None:
        holdout = spec is not None and spec.holdout > 0
    if not holdout and not exps:
        err_console.print("[red]nothing to compare: the journey declares no holdout or experiment[/red]")
        raise typer.Exit(2)
    from nurture.measure import charts
    from nurture.measure.arms import comparisons

    engine = open_engine(settings_for_cli())
    try:
        with engine.connect() as conn:
            found = comparisons(conn, journey, goal, window_days, holdout=holdout, experiments=exps)
    finally:
        engine.dispose()
    charts.write(charts.uplift_report(journey, found), out)
    for u in found:
        console.print(f"{u.treatment.name} vs {u.control.name}: {u.verdict}")
    console.print(f"wrote {out}")
