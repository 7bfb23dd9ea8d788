"""`nurture report funnel|uplift` writes valid SVG, PNG and HTML files carrying the numbers, from a seeded
population (3,000 contacts, 10% holdout, an A/B subject test); bad requests are refused with exit code 2."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import insert
from typer.testing import CliRunner

from nurture.cli import _register, app
from nurture.clock import utcnow
from nurture.db.engine import make_engine
from nurture.db.tables import TOUCH
from nurture.measure.arms import CLICK, comparisons
from nurture.measure.outcomes import StageOutcome
from tests.measure import seeded

pytestmark = pytest.mark.measured  # b2b_drip with its shipped holdout

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    now = utcnow().replace(microsecond=0)
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            seeded.seed(conn, now)
            conn.execute(
                insert(TOUCH),
                [
                    seeded.touch(i, now - timedelta(days=16), step="drop 2", item_id="b2b-approval-costs")
                    for i in range(1, 1235)
                ],
            )
    finally:
        engine.dispose()
    _register()
    monkeypatch.setenv("NURTURE_DATABASE_URL", db_url)
    return CliRunner()


def _svg_text(path: Path) -> str:
    root = ET.fromstring(path.read_text(encoding="utf-8"))  # well-formed XML or this raises
    assert root.tag.endswith("svg")
    return " ".join(t for t in root.itertext())


def test_funnel_report_as_svg_png_and_html(cli: CliRunner, tmp_path: Path) -> None:
    for name in ("funnel.svg", "funnel.png", "funnel.html"):
        done = cli.invoke(app, ["report", "funnel", seeded.JOURNEY, "--out", str(tmp_path / name)])
        assert done.exit_code == 0, done.output
    text = _svg_text(tmp_path / "funnel.svg")
    assert "3100" in text and "1234" in text and "drop 1: reached" in text
    png = (tmp_path / "funnel.png").read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 5000
    page = (tmp_path / "funnel.html").read_text(encoding="utf-8")
    HTMLParser().feed(page)
    assert (
        page.startswith("<!doctype html>")
        and "<svg" in page
        and "<td>3100</td>" in page
        and "http" not in page.split("<svg")[0]
    )


def test_uplift_report_shows_each_arm_the_interval_and_the_verdict(cli: CliRunner, tmp_path: Path, db_url: str) -> None:
    args = ["--window-days", "14"]  # the holdout and the experiment b2b_drip declares
    for name in ("uplift.svg", "uplift.png", "uplift.html"):
        done = cli.invoke(app, ["report", "uplift", seeded.JOURNEY, "--out", str(tmp_path / name), *args])
        assert done.exit_code == 0, done.output
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            held, ab = comparisons(conn, seeded.JOURNEY, CLICK, 14, holdout=True, experiments=seeded.SPEC.experiments)
    finally:
        engine.dispose()
    text = _svg_text(tmp_path / "uplift.svg")
    assert f"% of {held.control.entered}" in text and f"% of {ab.treatment.entered}" in text
    assert "treated vs holdout" in text and "b vs a" in text
    assert (tmp_path / "uplift.png").read_bytes().startswith(PNG_MAGIC)
    page = (tmp_path / "uplift.html").read_text(encoding="utf-8")
    assert f"{held.treatment.converted}/{held.treatment.entered}" in page
    assert held.verdict in page and ab.verdict in page and "Newcombe" in page
    assert held.verdict in done.output


def test_uplift_report_on_a_lifecycle_stage(cli: CliRunner, tmp_path: Path, db_url: str) -> None:
    out = tmp_path / "mql.html"
    done = cli.invoke(app, ["report", "uplift", seeded.JOURNEY, "--out", str(out), "--outcome", "mql"])
    assert done.exit_code == 0, done.output
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            [held, ab] = comparisons(
                conn, seeded.JOURNEY, StageOutcome("mql"), 14, holdout=True, experiments=seeded.SPEC.experiments
            )
    finally:
        engine.dispose()
    page = out.read_text(encoding="utf-8")
    assert f"{held.treatment.converted}/{held.treatment.entered}" in page and held.verdict in page
    assert held.verdict in done.output and ab.verdict in done.output


def test_report_refusals(cli: CliRunner, tmp_path: Path) -> None:
    wrong = cli.invoke(app, ["report", "funnel", seeded.JOURNEY, "--out", str(tmp_path / "f.pdf")])
    assert wrong.exit_code == 2 and not (tmp_path / "f.pdf").exists()
    nothing = cli.invoke(app, ["report", "uplift", "b2c_cultivation", "--out", str(tmp_path / "u.svg")])
    assert nothing.exit_code == 2 and "nothing to compare" in nothing.output
    side = cli.invoke(app, ["report", "uplift", seeded.JOURNEY, "--out", str(tmp_path / "u.svg"), "--outcome", "lost"])
    assert side.exit_code == 2 and "lifecycle line" in side.output
    bad = cli.invoke(
        app, ["report", "uplift", seeded.JOURNEY, "--out", str(tmp_path / "u.svg"), "--experiment", "x", "--arms", "a"]
    )
    assert bad.exit_code == 2 and not (tmp_path / "u.svg").exists()
