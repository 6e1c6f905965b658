"""The data docs tell the run's statuses: an open month's partial figures are provisional,
a failed pace forecast is at risk, and only a closed month's miss reads as failed.

One run on a tiny scorecard (2026-01..03 closed, 2026-04 open ten days in), stored by
`build_data_docs(run)` and rendered again by `funnelpact compile --data-docs`, as a user
would; the tests read the HTML GX wrote: the index's table data (what its table shows in
a browser) and each validation page's Status line and expectation rows.
"""

from __future__ import annotations

import ast
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipelines.checks.compile import write_suites
from pipelines.checks.docs import SITE, build_data_docs
from pipelines.checks.validate import run_checks
from pipelines.cli import app

from .conftest import SLA, row, scorecard_rows, write_scorecard

pytestmark = pytest.mark.slow  # great_expectations: a ~3 s import, then a few seconds of rendering

AS_OF = "2026-04-11 00:00:00"
OPEN = "2026-04"
PACED = ("volume:", "weighted_volume:", "revenue")
FAILED, PASSED = "fa-times", "fa-check-circle"  # GX's own icons
PROVISIONAL, AT_RISK = "fa-hourglass-half", "fa-circle-exclamation"


def open_month_rows(agreements) -> list[dict]:
    """April a third of the way to every paced target, on pace (its forecasts meet them),
    but for an MQL volume whose pace misses; April's quarantine rate above its maximum so
    far; March's MQL volume a breach; everything else on target."""
    rows = scorecard_rows(agreements, open_month=OPEN, open_elapsed=10.0, upto=OPEN)
    for r in rows:
        if r["period"] == OPEN and r["kpi"].startswith(PACED):
            r["actual"] /= 3
            r["forecast"] = r["actual"] * r["days_in_month"] / r["days_elapsed"]
    row(rows, OPEN, "volume:mql").update(actual=5.0, forecast=15.0)
    row(rows, OPEN, "data_quality:quarantine_rate").update(actual=0.05)
    row(rows, "2026-03", "volume:mql").update(actual=100.0)
    return rows


class _Rows(HTMLParser):
    """A validation page's expectation rows: (the icon classes of the row, its text)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[list[str], str]] = []
        self._row: tuple[list[str], list[str]] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self._row = ([], [])
        elif tag == "i" and self._row is not None:
            self._row[0].extend((dict(attrs).get("class") or "").split())

    def handle_endtag(self, tag):
        if tag == "tr" and self._row is not None:
            icons, text = self._row
            self.rows.append((icons, " ".join(" ".join(text).split())))
            self._row = None

    def handle_data(self, data):
        if self._row is not None:
            self._row[1].append(data)


def expectation_rows(page: str) -> dict[str, list[str]]:
    """'<kpi> in <period>' -> the icon classes of its row."""
    parser = _Rows()
    parser.feed(page)
    found = {}
    for icons, text in parser.rows:
        m = re.search(r"(\S+ in \d{4}-\d{2}) \(", text)
        if m:
            found[m.group(1)] = icons
    return found


def status_line(page: str) -> tuple[str, str]:
    """The Overview's `Status:` icon classes and word."""
    m = re.search(r'Status:</span>\s*<i class="([^"]*)"[^>]*></i>\s*([A-Za-z ]+?)\s*<', page)
    assert m, "no Status line"
    return m.group(1), m.group(2)


def compile_data_docs(project: Path) -> dict[str, dict]:
    """`funnelpact compile --data-docs` of `project`, as a user builds the site again from
    the stored results: batch id -> {"status": the index's Status text, "icon": its icon
    classes, "page": the validation page's HTML}."""
    config = (project / "gx" / "great_expectations.yml").read_text()
    done = CliRunner().invoke(app, ["compile", "--sla", str(SLA), "--out", str(project), "--data-docs"])
    assert done.exit_code == 0, done.output
    # The renderers are set for each build, never written into the project's config.
    assert (project / "gx" / "great_expectations.yml").read_text() == config
    root = project / SITE
    index = (root / "index.html").read_text()
    (links,) = [ast.literal_eval(m.group(1)) for m in re.finditer(r"^\s*data: (\[.*\]),?\s*$", index, re.M)
                if "'validation_success'" in m.group(1)]
    return {
        link["_batch_identifier_sort"]: {
            "status": link["_validation_success_text"],
            "icon": re.search(r'<i class="([^"]*)"', link["validation_success"]).group(1),
            "page": (root / Path(link["_table_row_link_path"])).read_text(),
        }
        for link in links
    }


@pytest.fixture(scope="module")
def project(agreements, tmp_path_factory) -> Path:
    """A GX project holding the run's stored results."""
    project = tmp_path_factory.mktemp("gx-project")
    write_suites(agreements, project)
    con = write_scorecard(duckdb.connect(), open_month_rows(agreements))
    run = run_checks(con, agreements, None, AS_OF)
    statuses = {(r.period, r.kpi): r.status for r in run.results}
    assert statuses[("2026-03", "volume:mql")] == "breach"
    assert statuses[(OPEN, "volume:mql")] == "at_risk"
    assert {s for (p, k), s in statuses.items() if p == OPEN and k != "volume:mql"} == {"provisional"}
    build_data_docs(run, project_dir=project)
    return project


@pytest.fixture(scope="module")
def site(project) -> dict[str, dict]:
    return compile_data_docs(project)


def test_an_open_months_partial_figures_are_provisional_not_failed(site) -> None:
    # Before: one validation per suite held every month, so April's partial revenue (a
    # third of the target, on pace) made `judgement-acme.2026-h1.revenue` Failed.
    shown = {batch: v for batch, v in site.items() if f" in {OPEN}" in v["page"] and not batch.startswith("forecast-")}
    failed = {batch for batch, v in shown.items()
              if v["status"] == "Failed" or status_line(v["page"])[1] == "Failed"
              or any(FAILED in icons for key, icons in expectation_rows(v["page"]).items() if key.endswith(OPEN))}
    assert failed == set()
    assert set(shown) == {f"provisional-acme.2026-h1.{s}" for s in ("volume", "conversion", "handoff", "revenue",
                                                                     "data_quality")}
    for batch, v in shown.items():
        assert (v["status"], PROVISIONAL in v["icon"]) == ("Provisional", True), batch
        assert status_line(v["page"])[1] == "Provisional", batch
        assert "provisional, not a breach" in v["page"]
        rows = expectation_rows(v["page"])
        assert rows and all(key.endswith(OPEN) for key in rows), batch
        assert all(PROVISIONAL in icons and FAILED not in icons for icons in rows.values()), batch
    # The partial revenue is below the final bound: GX's own verdict, shown as provisional.
    revenue = expectation_rows(site["provisional-acme.2026-h1.revenue"]["page"])
    assert revenue == {f"revenue in {OPEN}": ["fas", PROVISIONAL, "text-secondary"]}


def test_a_closed_months_breach_reads_failed_and_a_met_kpi_passed(site) -> None:
    volume = site["judgement-acme.2026-h1.volume"]
    assert (volume["status"], FAILED in volume["icon"]) == ("Failed", True)
    assert status_line(volume["page"]) == ("fas fa-times text-danger", "Failed")
    rows = expectation_rows(volume["page"])
    assert FAILED in rows["volume:mql in 2026-03"]
    assert {key for key, icons in rows.items() if PASSED not in icons} == {"volume:mql in 2026-03"}
    assert not any(key.endswith(OPEN) for key in rows)  # April is in provisional-…, not here
    for batch in ("judgement-acme.2026-h1.revenue", "judgement-acme.2026-h1.conversion",
                  "scorecard-acme.2026-h1.data_quality"):
        assert (site[batch]["status"], status_line(site[batch]["page"])[1]) == ("Success", "Succeeded"), batch
        assert all(PASSED in icons for icons in expectation_rows(site[batch]["page"]).values()), batch


def test_a_pace_forecast_that_misses_reads_at_risk_not_failed(site) -> None:
    volume = site["forecast-acme.2026-h1.volume"]
    assert (volume["status"], AT_RISK in volume["icon"]) == ("At risk", True)
    assert status_line(volume["page"])[1] == "At risk"
    rows = expectation_rows(volume["page"])
    assert AT_RISK in rows[f"volume:mql in {OPEN}"]
    assert all(PASSED in icons for key, icons in rows.items() if key != f"volume:mql in {OPEN}")
    assert not any(FAILED in icons for icons in rows.values())
    # Every revenue forecast is on pace: GX's passed, as before.
    assert site["forecast-acme.2026-h1.revenue"]["status"] == "Success"


def test_a_renderer_the_sites_config_names_is_kept(project, tmp_path) -> None:
    """GX's own index renderer, named in the config: the index is GX's, which shows the
    stored results as GX judged them (April's partial revenue misses the final bound)."""
    own = shutil.copytree(project, tmp_path / "project")
    config = own / "gx" / "great_expectations.yml"
    config.write_text(config.read_text().replace(
        "      class_name: DefaultSiteIndexBuilder\n",
        "      class_name: DefaultSiteIndexBuilder\n      renderer:\n"
        "        module_name: great_expectations.render.renderer\n        class_name: SiteIndexPageRenderer\n"))
    site = compile_data_docs(own)
    assert site["provisional-acme.2026-h1.revenue"]["status"] == "Failed"
    assert site["forecast-acme.2026-h1.volume"]["status"] == "Failed"
    # The pages still have funnelpact's renderer: the config names none for them.
    assert status_line(site["provisional-acme.2026-h1.revenue"]["page"])[1] == "Provisional"
