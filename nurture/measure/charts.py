"""Funnel and uplift charts as files (SVG, PNG, HTML), offline: Vega-Lite specs built with Altair, rendered by
vl-convert (no browser, no CDN). The console can embed `funnel_svg(...)` / `uplift_svg(...)` as they are.

HTML reports are the SVG inline plus a table of the same numbers, so they open anywhere without scripts.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import altair as alt
import vl_convert as vlc

from nurture.measure.funnel import Funnel
from nurture.measure.uplift import Uplift

FORMATS = (".svg", ".png", ".html")


@dataclass(frozen=True)
class Report:
    """A chart and the table of numbers behind it."""

    title: str
    spec: dict[str, Any]
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()


def funnel_report(f: Funnel) -> Report:
    stages = [("entered", f.entered, "all")]
    for s in f.steps:
        for what, n in (
            ("reached", s.reached),
            ("delivered", s.delivered),
            ("opened", s.opened),
            ("clicked", s.clicked),
        ):
            stages.append((f"{s.step}: {what}", n, s.step))
    data = alt.InlineData(
        values=[{"stage": k, "contacts": n, "step": g, "order": i} for i, (k, n, g) in enumerate(stages)]
    )
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("stage:N", sort=alt.EncodingSortField("order"), title=None),
            x=alt.X("contacts:Q", title="contacts"),
            color=alt.Color("step:N", legend=None),
        )
    )
    labels = bars.mark_text(align="left", dx=3).encode(text="contacts:Q")
    title = f"Funnel: {f.journey}"
    spec = (bars + labels).properties(title=title, width=480).to_dict()
    exits = tuple(f"exited {reason}: {n}" for reason, n in f.exited.items())
    rows = tuple((k, str(n)) for k, n, _ in stages)
    return Report(title, spec, ("stage", "contacts"), rows, (f"running: {f.running}", *exits))


def uplift_report(journey: str, comparisons: list[Uplift]) -> Report:
    values, rows = [], []
    for u in comparisons:
        label = f"{u.treatment.name} vs {u.control.name}"
        for arm in (u.control, u.treatment):
            rate = (arm.rate or 0.0) * 100
            values.append(
                {
                    "comparison": label,
                    "arm": arm.name,
                    "rate": round(rate, 1),
                    "n": arm.entered,
                    "converted": arm.converted,
                }
            )
        diff = "" if u.difference is None else f"{u.difference * 100:+.1f}"
        ci = "" if u.low is None or u.high is None else f"{u.low * 100:.1f} to {u.high * 100:.1f}"
        rows.append(
            (
                label,
                f"{u.control.converted}/{u.control.entered}",
                f"{u.treatment.converted}/{u.treatment.entered}",
                diff,
                ci,
                u.verdict,
            )
        )
    data = alt.InlineData(values=values)
    base = alt.Chart(data).encode(
        y=alt.Y("arm:N", title=None),
        x=alt.X("rate:Q", title="converted (%)"),
    )
    bars = base.mark_bar().encode(color=alt.Color("arm:N", legend=None))
    text = (
        base.mark_text(align="left", dx=3)
        .encode(text=alt.Text("label:N"))
        .transform_calculate(label="format(datum.rate, '.1f') + '% of ' + datum.n")
    )
    first = comparisons[0] if comparisons else None
    window = f", within {first.window_days} days" if first and first.window_days else ""
    title = f"Uplift: {journey} ({first.outcome if first else 'no outcome'}{window})"
    chart = (
        (bars + text)
        .properties(width=420, height=60)
        .facet(row=alt.Row("comparison:N", title=None))
        .resolve_scale(y="independent")
    )
    subtitle = [f"{u.treatment.name} vs {u.control.name}: {u.verdict}" for u in comparisons]
    spec = chart.properties(title=alt.Title(title, subtitle=subtitle, anchor="start")).to_dict()
    method = (first.method,) if first else ()
    header = ("comparison", "control", "treatment", "difference (points)", "95% CI (points)", "verdict")
    return Report(title, spec, header, tuple(rows), tuple(u.verdict for u in comparisons) + method)


def svg(report: Report) -> str:
    return str(vlc.vegalite_to_svg(report.spec))


def write(report: Report, out: Path) -> Path:
    """Write the report in the format its suffix names."""
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"{out.name}: the report is written as {', '.join(FORMATS)}")
    if suffix == ".svg":
        out.write_text(svg(report), encoding="utf-8")
    elif suffix == ".png":
        out.write_bytes(vlc.vegalite_to_png(report.spec, scale=2))
    else:
        out.write_text(html(report), encoding="utf-8")
    return out


def html(report: Report) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in report.header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in report.rows)
    notes = "".join(f"<li>{escape(n)}</li>" for n in report.notes)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(report.title)}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<style>body{font-family:sans-serif;margin:1.5rem;max-width:60rem}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}svg{max-width:100%;height:auto}</style>"
        f"</head><body><h1>{escape(report.title)}</h1>{svg(report)}"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table><ul>{notes}</ul></body></html>\n"
    )
