"""The review pack against the warehouse it was written from: same figures, self-contained,
escaped, and a clear error for a month nobody judged."""

from __future__ import annotations

import re
import shutil
from fractions import Fraction
from pathlib import Path

import duckdb
import pytest
import typer
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.errors import InputError
from pipelines.settings import Settings

from .conftest import AS_OF, CLOSED, OPEN
from .htmlscan import kpi_rows, number, scan, table_headings, tables

slow = pytest.mark.slow


def _query(settings: Settings, sql: str, params=()) -> list[dict]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        cursor = con.execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


# --- the figures -----------------------------------------------------------------------------

@slow
@pytest.mark.parametrize("which", ["closed", "open"])
def test_every_scorecard_figure_in_the_report_equals_the_judged_scorecard(judged, closed_report, open_report, which):
    path, month = (closed_report, CLOSED) if which == "closed" else (open_report, OPEN)
    shown = {row["data-kpi"]: row for row in kpi_rows(path.read_text(encoding="utf-8"))}
    judgements = _query(judged, "select * from judgements.kpi_status where period = ?", [month])
    assert judgements, "the fixture judged the month"
    assert set(shown) == {j["kpi"] for j in judgements}, "every judged KPI appears once, and nothing else"
    for j in judgements:
        row = shown[j["kpi"]]
        assert (row["data-period"], row["data-revision"], row["data-owner"]) == (month, j["revision"], j["owner"])
        assert row["data-status"] == j["status"], j["kpi"]
        assert number(row["data-target"]) == j["target"], j["kpi"]
        assert number(row["data-actual"]) == j["actual"], j["kpi"]
        assert number(row["data-forecast"]) == j["forecast"], j["kpi"]


@slow
def test_the_report_figures_equal_the_dbt_scorecard_mart(judged, closed_report):
    shown = {row["data-kpi"]: row for row in kpi_rows(closed_report.read_text(encoding="utf-8"))}
    mart = _query(judged, "select kpi, target, actual, forecast from marts.scorecard where period = ?", [CLOSED])
    assert {m["kpi"] for m in mart} == set(shown)
    for m in mart:
        assert number(shown[m["kpi"]]["data-actual"]) == m["actual"], m["kpi"]
        assert number(shown[m["kpi"]]["data-target"]) == m["target"], m["kpi"]


@slow
def test_the_scorecard_is_grouped_by_the_owning_team(closed_report):
    text = closed_report.read_text(encoding="utf-8")
    for team in ("marketing", "sales", "shared"):
        card = re.search(rf'<div class="card team-{team}">(.*?)</table></div>', text, re.S)
        assert card, team
        owners = set(re.findall(r'data-owner="([a-z]+)"', card.group(1)))
        assert owners == {team}


@slow
def test_recycle_reasons_add_up_to_the_recycled_mqls_of_the_rate(judged, closed_report):
    text = closed_report.read_text(encoding="utf-8")
    section = text[text.index('id="recycling"'):text.index('id="agreement"')]
    counts = [int(n) for n in re.findall(r'data-count="(\d+)"', section)]
    (mart,) = _query(judged, "select recycled_mqls from marts.recycle_rate where period = ?", [CLOSED])
    assert sum(counts) == mart["recycled_mqls"] > 0


@slow
def test_quarantined_rows_by_reason_match_the_load(judged, closed_report):
    from pipelines.warehouse.summary import data_quality_summary

    text = closed_report.read_text(encoding="utf-8")
    section = text[text.index('id="data-quality"'):]
    shown = {reason: int(n) for reason, n in re.findall(r'data-reason="([^"]+)" data-count="(\d+)"', section)}
    with duckdb.connect(str(judged.warehouse), read_only=True) as con:
        expected = data_quality_summary(con)["by_reason"]
    assert shown == expected and expected, "the generator plants bad rows on purpose"


@slow
def test_the_bottleneck_losses_add_up_to_the_revenue_gap(judged, closed_report):
    text = closed_report.read_text(encoding="utf-8")
    losses = [float(x) for x in re.findall(r'data-revenue-lost="([^"]+)"', text)]
    (revenue,) = _query(judged, "select target, actual from judgements.kpi_status where period = ? and kpi = 'revenue'",
                        [CLOSED])
    (customers,) = _query(judged, "select actual from judgements.kpi_status where period = ? and kpi = 'volume:customer'",
                          [CLOSED])
    deal_size = 12000  # sla/acme-2026-h2.yaml
    residual = customers["actual"] * deal_size - revenue["actual"]
    assert sum(losses) + residual == pytest.approx(revenue["target"] - revenue["actual"], abs=0.01)
    assert "▶" in text[text.index('id="bottleneck"'):text.index('id="pace"')], "the worst step is marked"
    worst = re.search(r'<tr class="worst"[^>]*><th scope="row">(.*?)</th>', text).group(1)
    assert '<span class="sr-only">loses most: </span>' in worst and '<span aria-hidden="true">▶ </span>' in worst, \
        "and says so in words to a screen reader"


@slow
def test_an_open_month_shows_the_pace_forecast_and_a_closed_one_says_it_has_none(open_report, closed_report):
    open_text, closed_text = open_report.read_text(encoding="utf-8"), closed_report.read_text(encoding="utf-8")
    assert "Pace forecast for the open month" in open_text and "days elapsed" in open_text
    assert "no pace forecast" in closed_text


# --- self-contained and safe -----------------------------------------------------------------

@slow
@pytest.mark.parametrize("which", ["closed", "open"])
def test_the_file_fetches_nothing(closed_report, open_report, which):
    text = (closed_report if which == "closed" else open_report).read_text(encoding="utf-8")
    page = scan(text)
    # Only in-page anchors: no src at all, no href but #fragments.
    assert all(attr == "href" and value.startswith("#") for _, attr, value in page.urls), page.urls
    assert not {"script", "link", "img", "iframe", "object", "embed", "base", "video", "audio"} & page.tags
    assert "url(" not in text and "@import" not in text and "@font-face" not in text
    csp = [m["content"] for m in page.meta if m.get("http-equiv", "").lower() == "content-security-policy"]
    assert csp == ["default-src 'none'; style-src 'unsafe-inline'; img-src data:"]
    # The only absolute URL is the SVG namespace, which is an identifier, not a request.
    assert set(re.findall(r"https?://[^\s\"'<>]+", text)) == {"http://www.w3.org/2000/svg"}


@slow
def test_text_from_the_agreement_is_escaped(judged, tmp_path):
    from pipelines.report.render import write_report

    sla = tmp_path / "sla"
    shutil.copytree(judged.sla_dir, sla)
    h2 = sla / "acme-2026-h2.yaml"
    h2.write_text(h2.read_text().replace(
        'label: Marketing qualified, owner: shared, crm_values: [marketingqualifiedlead],\n       definition: "Lead score',
        'label: "MQL <img src=x onerror=alert(1)>", owner: shared, crm_values: [marketingqualifiedlead],\n'
        '       definition: "</td><script>alert(2)</script> & Lead score'))
    settings = Settings(sla_dir=sla, data_dir=judged.data_dir, warehouse=judged.warehouse, home=judged.home)
    text = write_report(settings, CLOSED, tmp_path / "r.html", AS_OF).read_text(encoding="utf-8")
    assert "MQL &lt;img src=x onerror=alert(1)&gt;" in text
    assert "&lt;/td&gt;&lt;script&gt;alert(2)&lt;/script&gt; &amp; Lead score" in text
    assert "<img" not in text and "<script" not in text


# --- errors and the command ------------------------------------------------------------------

def _settings(tmp_path: Path, warehouse: Path) -> Settings:
    return Settings(sla_dir=Path(__file__).resolve().parents[2] / "sla", data_dir=tmp_path / "data",
                    warehouse=warehouse, home=tmp_path)


def test_a_month_without_judgements_asks_for_a_run_first(tmp_path):
    from pipelines.report.render import write_report

    warehouse = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(warehouse)).close()
    with pytest.raises(InputError, match=r"run `funnelpact run --from 2026-03 --to 2026-03` or `funnelpact backfill"):
        write_report(_settings(tmp_path, warehouse), "2026-03", tmp_path / "r.html", AS_OF)
    assert not (tmp_path / "r.html").exists()


def test_a_missing_warehouse_is_bad_input_not_a_traceback(tmp_path):
    from pipelines.report.render import write_report

    with pytest.raises(InputError, match="has not been judged yet"):
        write_report(_settings(tmp_path, tmp_path / "none.duckdb"), "2026-03", tmp_path / "r.html", AS_OF)
    assert not (tmp_path / "none.duckdb").exists(), "reading the report creates no warehouse"


@pytest.mark.parametrize(("month", "out", "message", "field"), [
    ("2026-13", "r.html", "'2026-13' is not a month: expected YYYY-MM", "--month"),
    ("March", "r.html", "'March' is not a month: expected YYYY-MM", "--month"),
    ("2027-03", "r.html", "no agreement is in force in 2027-03", "--month"),
    ("2026-03", "r.pdf", "does not end in .html", "--out"),
], ids=["month 13", "a word", "outside every window", "not html"])
def test_write_report_refuses_a_bad_request_before_it_reads_the_warehouse(tmp_path, month, out, message, field):
    """The library call says what is wrong with what it was given, not "not judged yet"."""
    from pipelines.report.render import write_report

    with pytest.raises(InputError, match=re.escape(message)) as caught:
        write_report(_settings(tmp_path, tmp_path / "none.duckdb"), month, tmp_path / out, AS_OF)
    assert "has not been judged" not in str(caught.value)
    assert [p.field for p in caught.value.problems] == [field]
    assert not (tmp_path / out).exists()


def _unwritable(tmp_path: Path, case: str) -> Path:
    """An --out that cannot be written, and nothing else wrong."""
    if case == "a folder":
        (tmp_path / "x.html").mkdir()
        return tmp_path / "x.html"
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    return tmp_path / "notes.txt" / "packs" / "r.html"


UNWRITABLE = [
    ("a folder", r"cannot write .*x\.html: it is a folder"),
    ("under a file", r"cannot write .*r\.html: .*notes\.txt is a file, not a folder"),
]


@pytest.mark.parametrize(("case", "message"), UNWRITABLE)
def test_write_report_refuses_an_out_it_cannot_write_before_it_reads_the_warehouse(tmp_path, case, message):
    from pipelines.report.render import write_report

    out = _unwritable(tmp_path, case)
    with pytest.raises(InputError, match=message) as caught:
        write_report(_settings(tmp_path, tmp_path / "none.duckdb"), "2026-03", out, AS_OF)
    assert caught.value.problems[0].field == "--out"


@pytest.mark.parametrize(("args", "message"), [
    (["--month", "2026-13", "--out", "r.html"], "'2026-13' is not a month: expected YYYY-MM"),
    (["--month", "March", "--out", "r.html"], "'March' is not a month"),
    (["--month", "2031-01", "--out", "r.html"], "no agreement is in force in 2031-01"),
    (["--month", "2026-03", "--out", "r.pdf"], "does not end in .html"),
    (["--month", "2026-03", "--out", "r.html", "--as-of", "yesterday"], "is not an instant"),
    (["--month", "2026-03", "--out", "r.html", "--as-of", "0001-01-01T00:30:00+01:00"], "is not an instant"),
    (["--month", "2026-12", "--out", "r.html", "--as-of", "2026-11-30T12:00:00Z"],
     "2026-12 has not started by 2026-11-30 12:00 UTC: there is nothing to review yet"),
], ids=["month 13", "a word", "outside every window", "not html", "bad as-of", "as-of before year 1",
        "not started"])
def test_bad_arguments_exit_2_with_one_clear_line(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FUNNELPACT_SLA_DIR", str(Path(__file__).resolve().parents[2] / "sla"))
    monkeypatch.setenv("FUNNELPACT_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    result = CliRunner().invoke(app, ["report", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize(("case", "message"), UNWRITABLE)
def test_an_out_the_command_cannot_write_stops_it_before_the_pipeline_runs(tmp_path, monkeypatch, case, message):
    # A month nobody judged: the command would run the pipeline (judge, alert) first.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FUNNELPACT_SLA_DIR", str(Path(__file__).resolve().parents[2] / "sla"))
    monkeypatch.setenv("FUNNELPACT_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    monkeypatch.setenv("FUNNELPACT_HOME", str(tmp_path / ".funnelpact"))
    out = _unwritable(tmp_path, case)
    result = CliRunner().invoke(app, ["report", "--month", "2026-03", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert re.search(r"error --out: " + message, " ".join(result.output.split())), result.output
    assert "judging" not in result.output and "Traceback" not in result.output
    assert not (tmp_path / "w.duckdb").exists() and not (tmp_path / ".funnelpact").exists()


def test_a_writable_pack_in_a_folder_the_command_cannot_write_stops_it_before_the_pipeline_runs(
        tmp_path, monkeypatch, without_root_override):
    """The new pack is written beside the old one and renamed over it: the file's own mode passed
    the check, the command judged the month (and alerted), then failed on 'Permission denied'."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FUNNELPACT_SLA_DIR", str(Path(__file__).resolve().parents[2] / "sla"))
    monkeypatch.setenv("FUNNELPACT_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    monkeypatch.setenv("FUNNELPACT_HOME", str(tmp_path / ".funnelpact"))
    folder = tmp_path / "packs"
    folder.mkdir()
    out = folder / "review.html"
    out.write_text("<!doctype html><title>the pack of last month</title>", encoding="utf-8")
    link = tmp_path / "latest.html"  # a writable folder, a link into the read-only one
    link.symlink_to(out)
    folder.chmod(0o555)
    try:
        for given in (out, link):
            done = without_root_override("from pipelines.cli import main; main()",
                                         "report", "--month", "2026-03", "--out", str(given))
            assert done.returncode == 2, done.stderr
            assert re.search(rf"error --out: cannot write {re.escape(str(given))}: the folder {re.escape(str(folder))} "
                             r"is not writable", " ".join(done.stderr.split())), done.stderr
            assert "judging" not in done.stderr and "Traceback" not in done.stderr
    finally:
        folder.chmod(0o755)
    assert not (tmp_path / "w.duckdb").exists() and not (tmp_path / ".funnelpact").exists()
    assert out.read_text(encoding="utf-8") == "<!doctype html><title>the pack of last month</title>"


def test_every_option_is_documented():
    command = typer.main.get_command(app).get_command(None, "report")
    for param in command.params:
        if param.name != "help":
            assert param.help, param.name
    assert command.epilog and "funnelpact report --month" in command.epilog


@slow
def test_the_command_writes_the_pack_of_a_judged_month_without_rerunning(judged, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FUNNELPACT_DUCKDB_PATH", str(judged.warehouse))
    monkeypatch.setenv("FUNNELPACT_HOME", str(judged.home))
    before = _query(judged, "select distinct run_id from judgements.kpi_status where period = ?", [CLOSED])
    out = tmp_path / "pack.html"
    result = CliRunner().invoke(app, ["report", "--month", CLOSED, "--out", str(out), "--sla", str(judged.sla_dir),
                                         "--data", str(judged.data_dir)])
    assert result.exit_code == 0, result.output
    assert f"review pack for {CLOSED} written to {out}" in result.output
    assert f"{CLOSED} is shown as judged by its last run; {judged.data_dir} is not read" in " ".join(result.output.split())
    assert kpi_rows(out.read_text(encoding="utf-8"))
    assert _query(judged, "select distinct run_id from judgements.kpi_status where period = ?", [CLOSED]) == before


@slow
def test_a_month_judged_before_an_upgrade_is_reported_from_the_warehouse_the_earlier_version_built(
        judged, tmp_path, monkeypatch):
    """After an upgrade, `report` of a judged month reads the warehouse as the earlier
    funnelpact left it, before any run rebuilt it: a revenue mart without the currency columns
    (added 2026-11-25), judgements without build_id, no judgements.last_build."""
    warehouse = tmp_path / ".funnelpact" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(judged.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("alter table marts.revenue drop column other_currency_deals")
        con.execute("alter table marts.revenue drop column other_currencies")
        con.execute("alter table judgements.kpi_status drop column build_id")
        con.execute("drop table judgements.last_build")
        statuses = dict(con.execute("select kpi, status from judgements.kpi_status where period = ?",
                                    [CLOSED]).fetchall())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FUNNELPACT_DUCKDB_PATH", str(warehouse))
    monkeypatch.setenv("FUNNELPACT_HOME", str(warehouse.parent))
    out = tmp_path / "pack.html"
    result = CliRunner().invoke(app, ["report", "--month", CLOSED, "--out", str(out), "--sla", str(judged.sla_dir),
                                         "--data", str(judged.data_dir)])
    assert result.exit_code == 0, result.output
    shown = {row["data-kpi"]: row["data-status"] for row in kpi_rows(out.read_text(encoding="utf-8"))}
    assert shown == statuses


@slow
def test_a_missing_data_directory_is_bad_input_also_for_a_judged_month(judged, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FUNNELPACT_DUCKDB_PATH", str(judged.warehouse))
    monkeypatch.setenv("FUNNELPACT_HOME", str(judged.home))
    result = CliRunner().invoke(app, ["report", "--month", CLOSED, "--out", "pack.html", "--sla", str(judged.sla_dir),
                                         "--data", "nowhere"])
    assert result.exit_code == 2
    assert "nowhere: data directory not found" in " ".join(result.output.split())
    assert not (tmp_path / "pack.html").exists()


@slow
def test_the_command_judges_a_month_nobody_judged_then_writes_it(judged, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("FUNNELPACT_HOME", str(tmp_path / ".funnelpact"))
    monkeypatch.setenv("FUNNELPACT_DUCKDB_PATH", str(tmp_path / ".funnelpact" / "warehouse.duckdb"))
    out = tmp_path / "pack.html"
    result = CliRunner().invoke(app, ["report", "--month", CLOSED, "--out", str(out), "--sla", str(judged.sla_dir),
                                         "--data", str(judged.data_dir), "--as-of", "2026-11-25T00:00:00Z"])
    assert result.exit_code == 0, result.output
    fresh = {row["data-kpi"]: row for row in kpi_rows(out.read_text(encoding="utf-8"))}
    # Same data, same agreements, same as-of: the same judgement as the session's warehouse.
    session = _query(judged, "select kpi, actual, status from judgements.kpi_status where period = ?", [CLOSED])
    assert {s["kpi"]: (s["actual"], s["status"]) for s in session} == {
        k: (number(v["data-actual"]), v["data-status"]) for k, v in fresh.items()}


# --- what the pack says about itself ----------------------------------------------------------

@slow
def test_the_median_time_to_first_touch_of_an_even_count_is_between_the_middle_two(judged):
    from dataclasses import replace

    from pipelines.agreement import load_agreements
    from pipelines.report import sections
    from pipelines.report.gather import Handoff, gather

    (report,) = gather(judged.warehouse, load_agreements(judged.sla_dir), CLOSED, AS_OF).agreements
    touched = [Handoff(hours, "in_time") for hours in (0.5, 1.0, 2.0, 9.0)] + [Handoff(None, "pending")]
    html = sections.handoffs(replace(report, handoffs=touched))
    assert "Median time to first touch: 1.5 h." in html


@slow
def test_the_footer_gives_the_time_the_file_was_written_not_the_as_of(judged, tmp_path):
    from datetime import UTC, datetime, timedelta

    from pipelines.report.render import write_report

    before = datetime.now(UTC).replace(second=0, microsecond=0)
    text = write_report(judged, CLOSED, tmp_path / "r.html", AS_OF - timedelta(days=3)).read_text(encoding="utf-8")
    after = datetime.now(UTC)
    written = re.search(r"Written by funnelpact for 2026-10 at (\d{4}-\d\d-\d\d \d\d:\d\d) UTC", text)
    # Both bounds: on a clock before the as-of, a footer giving the as-of was ">= before" too.
    assert written and before <= datetime.strptime(written.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=UTC) <= after


@slow
def test_a_revision_edited_after_the_month_was_judged_is_flagged(judged, closed_report, tmp_path):
    from pipelines.report.render import write_report

    assert "was edited after" not in closed_report.read_text(encoding="utf-8"), "an unedited revision has no banner"
    sla = tmp_path / "sla"
    shutil.copytree(judged.sla_dir, sla)
    h2 = sla / "acme-2026-h2.yaml"
    text = h2.read_text()
    assert "revenue_goal: " in text
    h2.write_text(re.sub(r"revenue_goal: (\d+)", lambda m: f"revenue_goal: {int(m.group(1)) * 2}", text, count=1))
    settings = Settings(sla_dir=sla, data_dir=judged.data_dir, warehouse=judged.warehouse, home=judged.home)
    page = write_report(settings, CLOSED, tmp_path / "r.html", AS_OF).read_text(encoding="utf-8")
    banner = re.search(r'<p class="banner">Revision 2026-h2 was edited after 2026-10 was judged: the targets of '
                       r"([^<]*) in the agreement file differ", page)
    assert banner and "revenue" in banner.group(1) and "volume:customer" in banner.group(1)
    # The judged figures are still what the run said.
    shown = {row["data-kpi"]: row for row in kpi_rows(page)}
    (judged_revenue,) = _query(judged, "select target from judgements.kpi_status where period = ? and kpi = 'revenue'",
                               [CLOSED])
    assert number(shown["revenue"]["data-target"]) == judged_revenue["target"]


@slow
def test_a_month_the_crm_data_does_not_reach_says_so_atop_its_part_not_after_it(judged, tmp_path):
    """Judged on no data, the pack opened on a funnel of zeros, every volume breached and the
    biggest leak named, and said why only among the Data quality section's banners, some nine
    pages on. The export here ends on 2026-09-15, before the closed month under review."""
    from pipelines.report.render import write_report

    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(judged.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        for table, column in (("contacts", "created_at"), ("lifecycle_events", "occurred_at"),
                              ("activities", "occurred_at"), ("deals", "created_at"), ("deals", "closed_at")):
            con.execute(f"delete from raw.{table} where {column} >= timestamp '2026-09-15'")
    settings = Settings(sla_dir=judged.sla_dir, data_dir=judged.data_dir, warehouse=warehouse, home=judged.home)
    page = write_report(settings, CLOSED, tmp_path / "r.html", AS_OF).read_text(encoding="utf-8")
    assert re.search(r'<p class="banner" data-warning="data-end">acme 2026-10: the month begins after the CRM data '
                     r"ends \(2026-09-1[45] \d\d:\d\d UTC, .*?\), so it is judged on no data", page)
    elements = scan(page).elements

    def where(tag: str, **attrs: str) -> list[int]:
        return [i for i, (t, a) in enumerate(elements) if t == tag and attrs.items() <= a.items()]

    banners = where("p", **{"data-warning": "data-end"})
    [article], [summary], [quality] = where("article"), where("div", **{"class": "summary"}), where("section", id="data-quality")
    assert len(banners) == 1 and article < banners[0] < summary < quality, "once, before the figures it explains"


@slow
def test_the_revenue_target_shows_a_fraction_of_a_customer_to_its_first_digit(judged, tmp_path):
    # "(0.00 customers × USD 12,000,000)" read as if the month needed none.
    from pipelines.report.render import write_report

    sla = tmp_path / "sla"
    shutil.copytree(judged.sla_dir, sla)
    h2 = sla / "acme-2026-h2.yaml"
    text = re.sub(r"revenue_goal: \d+", "revenue_goal: 6", h2.read_text(), count=1)
    h2.write_text(re.sub(r"average_deal_size: \d+", "average_deal_size: 12000000", text, count=1))
    settings = Settings(sla_dir=sla, data_dir=judged.data_dir, warehouse=judged.warehouse, home=judged.home)
    page = write_report(settings, CLOSED, tmp_path / "r.html", AS_OF).read_text(encoding="utf-8")
    facts = re.search(r"<dt>Revenue target</dt><dd>([^<]*)</dd>", page)
    assert facts and re.search(r"\(≈ 0\.0000\d*[1-9] customers × USD 12,000,000\)", facts.group(1)), facts


@slow
def test_the_revenue_target_of_the_closed_month_marks_its_rounded_product(closed_report):
    # "USD 116,129 (9.68 customers × USD 12,000)" read as if 9.68 × 12,000 were 116,129.
    facts = re.search(r"<dt>Revenue target</dt><dd>([^<]*)</dd>", closed_report.read_text(encoding="utf-8"))
    assert facts and facts.group(1) == "USD 116,129 (≈ 9.68 customers × USD 12,000)", facts


@slow
def test_an_agreement_in_force_that_the_month_was_not_judged_by_is_named_not_left_out_silently(judged, tmp_path):
    """A second agreement, beta, joins sla/ after the month was judged: the pack held acme's
    part only, and nothing told beta's teams that theirs was missing."""
    from pipelines.report.render import write_report

    sla = tmp_path / "sla"
    shutil.copytree(judged.sla_dir, sla)
    for path in sorted(sla.glob("acme-*.yaml")):
        (sla / path.name.replace("acme", "beta")).write_text(path.read_text().replace("name: acme", "name: beta", 1))
    settings = Settings(sla_dir=sla, data_dir=judged.data_dir, warehouse=judged.warehouse, home=judged.home)
    page = write_report(settings, CLOSED, tmp_path / "r.html", AS_OF).read_text(encoding="utf-8")
    assert [attrs["data-agreement"] for tag, attrs in scan(page).elements if tag == "article"] == ["acme"]
    banner = re.search(r'<p class="banner" data-warning="not-judged">(.*?)</p>', page)
    assert banner and banner.group(1).startswith(f"beta 2026-h2 is in force in {CLOSED} too, but has no judgement "
                                                 "for it, so this pack leaves it out"), banner
    assert f"<code>funnelpact run --from {CLOSED} --to {CLOSED}</code>" in banner.group(1)
    assert "not-judged" not in write_report(judged, CLOSED, tmp_path / "acme.html", AS_OF).read_text(encoding="utf-8"), \
        "no banner when every agreement in force was judged"



@slow
def test_the_command_warns_on_stderr_of_an_agreement_its_pack_leaves_out(judged, tmp_path, monkeypatch):
    sla = tmp_path / "sla"
    shutil.copytree(judged.sla_dir, sla)
    for path in sorted(sla.glob("acme-*.yaml")):
        (sla / path.name.replace("acme", "beta")).write_text(path.read_text().replace("name: acme", "name: beta", 1))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FUNNELPACT_DUCKDB_PATH", str(judged.warehouse))
    monkeypatch.setenv("FUNNELPACT_HOME", str(judged.home))
    args = ["report", "--month", CLOSED, "--out", "pack.html", "--data", str(judged.data_dir)]
    left_out = CliRunner().invoke(app, [*args, "--sla", str(sla)])
    assert left_out.exit_code == 0, left_out.output
    said = " ".join(left_out.stderr.split())
    assert f"warning beta 2026-h2: in force in {CLOSED} but not judged for it" in said, said
    assert f"funnelpact run --from {CLOSED} --to {CLOSED}" in said
    complete = CliRunner().invoke(app, [*args, "--sla", str(judged.sla_dir)])
    assert complete.exit_code == 0 and "warning" not in complete.stderr, complete.stderr


@slow
def test_a_month_whose_window_moved_to_another_revision_since_it_was_judged_is_bad_input(judged, tmp_path):
    """July was judged by 2026-h2; a pull request then hands July to 2026-h1. The judged
    revision has no plan for July any more: the pack names the move and how to re-judge
    (the command exits 2), where it crashed on the missing plan (exit 3)."""
    from pipelines.report.render import write_report

    sla = tmp_path / "sla"
    shutil.copytree(judged.sla_dir, sla)
    for name, old, new in (("acme-2026-h1.yaml", "to: 2026-06}", "to: 2026-07}"),
                           ("acme-2026-h2.yaml", "from: 2026-07,", "from: 2026-08,")):
        text = (sla / name).read_text()
        assert old in text
        (sla / name).write_text(text.replace(old, new))
    settings = Settings(sla_dir=sla, data_dir=judged.data_dir, warehouse=judged.warehouse, home=judged.home)
    with pytest.raises(InputError, match=r"2026-07 was judged by agreement 'acme' revision '2026-h2', whose window "
                       r"\(2026-08\.\.2026-12\) no longer holds it: re-run the month") as caught:
        write_report(settings, "2026-07", tmp_path / "r.html", AS_OF)
    assert caught.value.problems[0].field == "--sla"


@slow
def test_a_damaged_warehouse_is_bad_input_naming_it_and_the_previous_pack_is_left_as_it_was(judged, tmp_path, monkeypatch):
    """A block whose checksum fails, read while the pack gathers its figures: `Corrupt database
    file` read as a bug (exit 3), where every other command says the warehouse is damaged."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(judged.warehouse, warehouse)
    size = warehouse.stat().st_size
    with open(warehouse, "r+b") as f:  # junk over the start of every 256 kB past the header
        for offset in range(300_000, size, 262_144):
            f.seek(offset)
            f.write(b"\xde\xad\xbe\xef" * 64)
    out = tmp_path / "review.html"
    out.write_text("<!doctype html><title>the pack of last month</title>", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FUNNELPACT_SLA_DIR", str(judged.sla_dir))
    monkeypatch.setenv("FUNNELPACT_DUCKDB_PATH", str(warehouse))
    monkeypatch.setenv("FUNNELPACT_HOME", str(judged.home))
    result = CliRunner().invoke(app, ["report", "--month", CLOSED, "--out", str(out)])
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert f"{warehouse} FUNNELPACT_DUCKDB_PATH: the warehouse is damaged (" in said, said
    assert "move it aside and run again" in said and "Traceback" not in said
    assert out.read_text(encoding="utf-8") == "<!doctype html><title>the pack of last month</title>"


@slow
def test_an_output_that_cannot_be_written_is_bad_input(judged, tmp_path):
    from pipelines.report.render import write_report

    (tmp_path / "dir.html").mkdir()
    with pytest.raises(InputError, match=r"cannot write .*dir\.html") as caught:
        write_report(judged, CLOSED, tmp_path / "dir.html", AS_OF)
    assert caught.value.problems[0].field == "--out"


def _files_of_20_kb() -> None:
    """In the child, as `ulimit -f` sets it: a file that grows past 20 kB fails as on a full
    disk (EFBIG; SIGXFSZ ignored, as Python does). A pack is over 100 kB."""
    import resource
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))


@slow
@pytest.mark.parametrize("existing", [True, False], ids=["over last month's pack", "a new file in new folders"])
def test_a_full_disk_while_writing_the_pack_exits_3_and_leaves_nothing_half_written(judged, tmp_path, existing):
    """Written in place, the pack's first 20 kB replaced the previous pack, and the full disk
    read as bad input (exit 2) naming only 'File too large'."""
    import os
    import subprocess
    import sys

    out = tmp_path / "packs" / "review.html" if existing else tmp_path / "new" / "packs" / "review.html"
    if existing:
        out.parent.mkdir()
        out.write_text("<!doctype html><title>the pack of last month</title>", encoding="utf-8")
    env = {**os.environ, "FUNNELPACT_DUCKDB_PATH": str(judged.warehouse), "FUNNELPACT_HOME": str(judged.home)}
    full = subprocess.run(
        [sys.executable, "-c", "from pipelines.cli import main; main()", "report", "--month", CLOSED,
         "--out", str(out), "--sla", str(judged.sla_dir)],
        capture_output=True, text=True, cwd=tmp_path, env=env, preexec_fn=_files_of_20_kb, timeout=300)
    assert full.returncode == 3, full.stderr[-3000:]
    [error] = [line for line in full.stderr.splitlines() if line.startswith("error")]
    assert f"no room left on the disk writing {out}" in error and "Traceback" not in full.stderr, full.stderr
    if existing:
        assert out.read_text(encoding="utf-8") == "<!doctype html><title>the pack of last month</title>"
        assert [p.name for p in out.parent.iterdir()] == ["review.html"], "no part of the new pack is left beside it"
    else:
        assert not (tmp_path / "new").exists(), "nor the folders made for it"


@slow
def test_a_folder_that_cannot_be_made_for_the_pack_is_bad_input_and_leaves_none_of_those_made_before_it(judged, tmp_path):
    """The first missing folder is made, the next one's name is too long for the file system
    (255 bytes): the error names --out, and the folder made for nothing is removed again."""
    from pipelines.report.render import write_report

    out = tmp_path / "new" / ("x" * 300) / "review.html"
    with pytest.raises(InputError, match=r"cannot write .*review\.html: File name too long") as caught:
        write_report(judged, CLOSED, out, AS_OF)
    assert caught.value.problems[0].field == "--out"
    assert list(tmp_path.iterdir()) == []

@slow
def test_with_several_agreements_every_section_id_is_unique_and_the_contents_reach_each(several_report):
    page = scan(several_report.read_text(encoding="utf-8"))
    ids = [attrs["id"] for _, attrs in page.elements if "id" in attrs]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert {"acme-scorecard", "beta-scorecard", "data-quality"} <= set(ids)
    links = {value[1:] for _, attr, value in page.urls if attr == "href"}
    assert links <= set(ids) and {"acme-funnel", "beta-funnel"} <= links


def _copy_for_the_cli(judged: Settings, tmp_path: Path, monkeypatch) -> Settings:
    """A copy of the session's warehouse, which the command (run from tmp_path) then uses:
    for a test whose command runs the pipeline. The data is the session's, so the load finds
    every file as it recorded it and appends nothing."""
    home = tmp_path / ".funnelpact"
    home.mkdir()
    shutil.copy(judged.warehouse, home / "warehouse.duckdb")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    for secret in ("FUNNELPACT_SLACK_WEBHOOK", "FUNNELPACT_SMTP_URL", "FUNNELPACT_ALERT_WEBHOOK"):
        monkeypatch.delenv(secret, raising=False)
    env = {"FUNNELPACT_HOME": home, "FUNNELPACT_DUCKDB_PATH": home / "warehouse.duckdb",
           "FUNNELPACT_SLA_DIR": judged.sla_dir, "FUNNELPACT_DATA_DIR": judged.data_dir}
    for key, value in env.items():
        monkeypatch.setenv(key, str(value))
    return Settings.from_env()


@slow
def test_a_fractional_as_of_is_judged_as_of_its_whole_second_and_the_pack_has_no_stale_banner(
        judged, tmp_path, monkeypatch):
    from datetime import datetime

    settings = _copy_for_the_cli(judged, tmp_path, monkeypatch)
    out = tmp_path / "pack.html"
    result = CliRunner().invoke(app, ["report", "--month", CLOSED, "--out", str(out),
                                         "--as-of", "2026-11-25T00:00:00.5Z"])
    assert result.exit_code == 0, result.output
    assert _query(settings, "select distinct as_of from judgements.kpi_status where period = ?", [CLOSED]) == [
        {"as_of": datetime(2026, 11, 25)}]
    page = out.read_text(encoding="utf-8")
    assert "<dt>Judged as of</dt><dd>2026-11-25 00:00 UTC</dd>" in page and 'class="banner"' not in page


@slow
def test_a_report_as_of_a_future_instant_warns_and_its_packs_say_it_is_a_what_if(judged, tmp_path, monkeypatch):
    _copy_for_the_cli(judged, tmp_path, monkeypatch)
    future = "2099-01-01T00:00:00Z"
    what_if = CliRunner().invoke(app, ["report", "--month", CLOSED, "--out", "what-if.html", "--as-of", future])
    assert what_if.exit_code == 0, what_if.output
    assert "--as-of 2099-01-01 00:00 UTC is in the future" in " ".join(what_if.output.split())
    # Later, without --as-of: the month is shown as judged, by the what-if.
    plain = CliRunner().invoke(app, ["report", "--month", CLOSED, "--out", "plain.html"])
    assert plain.exit_code == 0, plain.output
    for name in ("what-if.html", "plain.html"):
        page = (tmp_path / name).read_text(encoding="utf-8")
        banner = re.search(r'<p class="banner">What-if: 2026-10 was judged as of 2099-01-01 00:00:00 UTC, later than '
                           r"this pack was written.*?</p>", page)
        assert banner and "judge the month again without --as-of" in banner.group(0), name
        assert "<code>funnelpact run --from 2026-10 --to 2026-10</code>" in banner.group(0)


def test_a_pack_judged_as_of_the_past_has_no_what_if_banner(closed_report):
    assert "What-if" not in closed_report.read_text(encoding="utf-8")


@slow
def test_details_from_a_later_build_over_other_data_are_flagged_also_at_the_same_as_of(judged, tmp_path):
    """The month judged from the session's data; then another month judged as of the same
    instant from data without deals: the warehouse's raw tables and marts are that build's."""
    from pipelines.defs.execute import run_job
    from pipelines.report.render import write_report

    warehouse = tmp_path / ".funnelpact" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(judged.warehouse, warehouse)
    without_deals = tmp_path / "data-without-deals"
    shutil.copytree(judged.data_dir, without_deals, ignore=shutil.ignore_patterns("deals*"))
    later = Settings(sla_dir=judged.sla_dir, data_dir=without_deals, warehouse=warehouse, home=warehouse.parent)
    outcome = run_job(later, "2026-04", "2026-04", AS_OF, ephemeral=True)
    assert outcome.success, outcome.failure
    page = write_report(later, CLOSED, tmp_path / "r.html", AS_OF).read_text(encoding="utf-8")
    assert '<th scope="row">deals</th><td><b>absent</b></td>' in page, "the data-quality section is the later load's"
    banner = re.search(r'<p class="banner">The scorecard was judged as of 2026-11-25 00:00:00 UTC[^;]*; .*?</p>', page)
    assert banner, "the month's judgement is not the warehouse's last build"
    assert "the Data quality section" in banner.group(0) and outcome.run_id[:8] in banner.group(0)


@slow
def test_at_the_first_instant_of_a_month_the_bottleneck_says_it_uses_the_figures_so_far(judged, tmp_path, monkeypatch):
    # Local midnight of 2026-11-01 in Mexico City: no time of the month has elapsed, so no forecast.
    _copy_for_the_cli(judged, tmp_path, monkeypatch)
    result = CliRunner().invoke(app, ["report", "--month", OPEN, "--out", "pack.html",
                                         "--as-of", "2026-11-01T06:00:00Z"])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "pack.html").read_text(encoding="utf-8")
    assert not [row for row in kpi_rows(page) if row.get("data-forecast")], "nothing to pace yet"
    section = re.search(r'<section id="bottleneck".*?</section>', page, re.S).group(0)
    assert "with the volumes and revenue so far (the month has no pace forecast yet)" in section
    assert "forecast volumes" not in section


def test_the_open_month_bottleneck_says_it_is_at_the_current_pace(open_report, closed_report):
    assert "at the current pace (forecast volumes and revenue)." in open_report.read_text(encoding="utf-8")
    assert "with the month's final volumes." in closed_report.read_text(encoding="utf-8")


def test_the_stale_data_banner_gives_seconds():
    from datetime import timedelta
    from types import SimpleNamespace

    from pipelines.report.render import _stale_banner

    judged_at = AS_OF.replace(hour=16, minute=29, second=5)
    banner = _stale_banner(SimpleNamespace(build_as_of=judged_at + timedelta(seconds=20), build_id="b" * 36),
                           SimpleNamespace(judged_as_of=judged_at, judged_build="b" * 36, month=CLOSED))
    assert "as of 2026-11-25 16:29:05 UTC" in banner and "as of 2026-11-25 16:29:25 UTC" in banner


@pytest.mark.parametrize(("status", "mark"), [("no_data", "–"), ("breach", "✗"), (None, None)])
def test_a_judged_month_without_a_figure_keeps_its_status_symbol(status, mark):
    from pipelines.report import svg

    point = svg.Point("2026-10", None, 100.0 if status else None, status)
    for chart in (svg.columns, svg.lines):
        drawn = chart([svg.Point("2026-09", 90.0, 100.0, "met"), point], "t", str)
        marks = re.findall(r'class="mark m-([a-z_]+)"[^>]*>([^<]*)<', drawn)
        assert marks == ([(status, mark)] if status else []), (chart.__name__, marks)


@pytest.mark.parametrize("chart", ["columns", "lines"])
def test_a_status_mark_is_drawn_over_the_target_line_it_sits_on(chart):
    from pipelines.report import svg

    # 97 of a target of 100: the ✗ over the figure is where the target line runs, and the
    # later of two overlapping shapes is the one on top.
    points = [svg.Point("2026-09", 97.0, 100.0, "breach"), svg.Point("2026-10", 97.0, 100.0, "breach")]
    drawn = getattr(svg, chart)(points, "t", str)
    targets = [m.start() for m in re.finditer(r'class="target(?:-line)?"', drawn)]
    marks = [m.start() for m in re.finditer(r'class="mark m-breach"', drawn)]
    assert len(marks) == 2 and targets and min(marks) > max(targets)


# --- sections from hand-made judgements (no warehouse) -----------------------------------------

def _month_report(results, judged_as_of=None):
    """The open month of the session's fixture (2026-11, revision 2026-h2) with these judgements."""
    from datetime import timedelta

    from pipelines.agreement import load_agreements
    from pipelines.agreement.months import month_bounds_utc
    from pipelines.agreement.plan import plan_agreement
    from pipelines.report.gather import AgreementReport

    from .conftest import REPO

    h2 = next(a for a in load_agreements(REPO / "sla") if a.revision == "2026-h2")
    start, end = month_bounds_utc(OPEN, h2.spec.timezone)
    rows = [{"agreement": "acme", "revision": "2026-h2", "period": OPEN, "kpi": kpi, "owner": owner,
             "target": target, "actual": actual, "forecast": forecast, "status": status, "severity": severity,
             "tolerance": 0.05} for kpi, owner, target, actual, forecast, status, severity in results]
    return AgreementReport(
        agreement=h2, month=OPEN, results=rows, trend_months=[OPEN], trend={}, revision_of={OPEN: "2026-h2"},
        plan=next(p for p in plan_agreement(h2) if p.period == OPEN),
        judged_as_of=judged_as_of or end - timedelta(days=10), judged_build=None, month_start=start, month_end=end)


HAND_MADE = [  # kpi, owner, target, actual, forecast, status, severity
    ("volume:visit", "marketing", 30000.0, 1000.0, 1500.0, "breach", "warn"),
    ("recycle_rate", "marketing", 0.35, 0.5, None, "at_risk", "fail"),
    ("revenue", "sales", 100000.0, 10000.0, 30000.0, "breach", "fail"),
    ("volume:mql", "shared", 100.0, 120.0, 180.0, "met", "fail"),
]


def test_the_summary_counts_fail_breaches_and_what_each_team_must_act_on():
    from pipelines.report.sections import scorecard, summary

    r = _month_report(HAND_MADE)
    # One breach of fail severity (revenue; volume:visit is warn); breached or at risk:
    # marketing volume:visit and recycle_rate, sales revenue, shared none.
    assert "1 fail-severity breach; KPIs breached or at risk by team: marketing 2, sales 1." in summary(r, None)
    cards = scorecard(r)
    assert "Marketing <small>2 KPIs, 1 breached</small>" in cards  # at_risk is not a breach
    assert "Sales <small>1 KPI, 1 breached</small>" in cards


@slow
def test_the_pace_table_runs_down_the_funnel(open_report):
    """Sorted by KPI id it read revenue, customers, leads, MQLs, opportunities, SQLs, visits."""
    elements = scan(open_report.read_text(encoding="utf-8")).elements
    start = next(i for i, (tag, attrs) in enumerate(elements) if tag == "section" and attrs.get("id") == "pace")
    end = next(i for i, (tag, _) in enumerate(elements) if i > start and tag == "section")
    assert [attrs["data-kpi"] for tag, attrs in elements[start:end] if tag == "tr" and "data-kpi" in attrs] == [
        "volume:visit", "volume:lead", "volume:mql", "volume:sql", "volume:opportunity", "volume:customer",
        "weighted_volume:mql", "revenue"]


def test_the_pace_table_compares_the_forecast_not_the_figure_so_far_with_the_target():
    from pipelines.report.sections import pace

    html = pace(_month_report(HAND_MADE))
    # revenue: forecast 30,000 of a 100,000 target = 30% (the 10,000 so far would be 10%).
    row = re.search(r'<tr data-kpi="revenue">.*?</tr>', html).group(0)
    assert '<td class="num">30%</td>' in row


def test_the_bottleneck_groups_the_thousands_of_customers_lost():
    from pipelines.report.bottleneck import Bottleneck, StageLoss
    from pipelines.report.sections import bottleneck

    loss = StageLoss("mql", "lead", 3_000_000.0, 1_000_000.0, 859_027.625, 8.59e9)
    b = Bottleneck(1e10, 1e9, 1_000_000.0, 140_972.375, 10_000.0, [loss], None, loss)
    html = bottleneck(_month_report(HAND_MADE), b)
    assert "859,027.63 customers" in html and '<td class="num">+859,027.63</td>' in html  # half up, as every figure


@pytest.mark.parametrize("target, actual, said", [
    # Each rounded on its own, 100,000 against 90,001 read as a gap of 10,000 (9,999.8 rounded).
    ("100000.4", "90000.6", "USD 90,000.60 (USD 10,000 so far) against a target of USD 100,000.40: "
                            "a gap of <b>USD 9,999.80</b>"),
    ("100000.4", "90000.2", "USD 90,000 (USD 10,000 so far) against a target of USD 100,000: a gap of <b>USD 10,000</b>"),
    ("100000.4", "110000.6", "USD 110,000.60 (USD 10,000 so far), USD 10,000.20 above the target of USD 100,000.40"),
], ids=["a gap that adds up in cents", "a gap that adds up in whole units", "a surplus"])
def test_the_bottleneck_s_revenue_gap_is_the_difference_of_the_figures_beside_it(target, actual, said):
    from pipelines.report.bottleneck import Bottleneck
    from pipelines.report.sections import bottleneck

    b = Bottleneck(Fraction(target), Fraction(actual), 8.33, 7.5, Fraction(12000), [], None, None)
    assert said in bottleneck(_month_report(HAND_MADE), b)


def test_the_rules_say_how_long_at_risk_alerts_wait():
    from dataclasses import replace

    from pipelines.agreement.model import KpiPolicy
    from pipelines.report.sections import agreement_rules

    r = _month_report(HAND_MADE)
    assert "At-risk alerts" not in agreement_rules(r)  # the built-in: at once, nothing to say

    def waiting(kpis):
        spec = r.agreement.spec.model_copy(update={"kpis": {k: KpiPolicy(**v) for k, v in kpis.items()}})
        return agreement_rules(replace(r, agreement=r.agreement.model_copy(update={"spec": spec})))

    assert "At-risk alerts wait for the month's first days: 3 days (" in waiting({"default": {"at_risk_after_days": 3}})
    assert ("wait for the month's first days: volume:visit 5 days, volume:lead 2 days ("
            in waiting({"volume:visit": {"at_risk_after_days": 5}, "volume:lead": {"at_risk_after_days": 2}}))


def test_agreed_shares_read_as_agreed_and_measured_shares_round_half_up():
    from dataclasses import replace
    from decimal import Decimal

    from pipelines.agreement.model import KpiPolicy
    from pipelines.report.sections import agreement_rules, pace

    # A forecast of 12,500 against 100,000 is 12.5 %: half up it is 13 %, as every figure
    # rounds (Python's :.0% gave 12 %, the half to even).
    r = _month_report([("revenue", "sales", 100000.0, 10000.0, 12500.0, "at_risk", "fail")])
    row = re.search(r'<tr data-kpi="revenue">.*?</tr>', pace(r)).group(0)
    assert '<td class="num">13%</td>' in row

    # What the teams signed is shown as signed: 95.5 % was "95%" (the double of 0.955 is
    # below it), a tolerance of 12.5 % was "12%".
    spec = r.agreement.spec
    handoff = spec.handoff.model_copy(update={
        "first_touch": spec.handoff.first_touch.model_copy(update={"attainment": Decimal("0.955")})})
    spec = spec.model_copy(update={"handoff": handoff, "kpis": {"revenue": KpiPolicy(tolerance=Decimal("0.125"))}})
    rules = agreement_rules(replace(r, agreement=r.agreement.model_copy(update={"spec": spec})))
    assert "for at least 95.5% of MQLs." in rules
    revenue = re.search(r"<tr><th scope=\"row\">[^<]*<code class=\"id\"><span>revenue</span></code></th>.*?</tr>", rules)
    assert revenue and '<td class="num">12.5%</td>' in revenue.group(0), rules


def test_a_month_judged_at_its_last_instant_is_open_and_at_its_end_closed():
    from datetime import timedelta

    from pipelines.agreement.months import month_bounds_utc

    _, end = month_bounds_utc(OPEN, "America/Mexico_City")  # [start, end): the end belongs to December
    assert _month_report(HAND_MADE, end - timedelta(seconds=1)).is_open
    assert not _month_report(HAND_MADE, end).is_open


def test_the_trends_run_from_the_agreement_s_first_month_to_the_reviewed_one_across_revisions(judged):
    from pipelines.agreement import load_agreements
    from pipelines.agreement.months import month_range
    from pipelines.report.gather import gather

    [r] = gather(judged.warehouse, load_agreements(judged.sla_dir), CLOSED, AS_OF).agreements
    assert r.trend_months == month_range("2026-01", CLOSED)  # the reviewed month included, not 2026-11
    assert (CLOSED, "revenue") in r.trend and ("2026-03", "revenue") in r.trend
    assert (r.revision_of["2026-03"], r.revision_of[CLOSED]) == ("2026-h1", "2026-h2")


def test_targets_added_or_dropped_by_an_edit_count_as_edited_like_changed_ones():
    from fractions import Fraction

    from pipelines.report.gather import _edited_targets

    judged = [{"kpi": "revenue", "target": 100000.0}, {"kpi": "volume:mql", "target": 150.0},
              {"kpi": "recycle_rate", "target": None}, {"kpi": "handoff:decision", "target": 0.9}]
    in_file = {"revenue": Fraction(100000), "volume:mql": Fraction(160), "recycle_rate": None,
               "handoff:first_touch": Fraction(9, 10)}
    # volume:mql changed; handoff:decision dropped from the file; handoff:first_touch added to it.
    assert _edited_targets(in_file, judged) == ["handoff:decision", "handoff:first_touch", "volume:mql"]


def _axis_value(label: str) -> float:
    scale = {"k": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}.get(label[-1:], 1)
    return float(label.rstrip("kMBT%").replace(",", "")) * scale


@slow
@pytest.mark.parametrize("which", ["closed", "open"])
def test_every_chart_s_gridlines_are_labelled_with_their_value(closed_report, open_report, which):
    # Gridlines at 0, half and all of the scale: a line at 12.5 MQLs read "12", one at 1.25 % read "1.2%".
    text = (closed_report if which == "closed" else open_report).read_text(encoding="utf-8")
    checked = 0
    for chart in re.findall(r'<svg class="chart".*?</svg>', text, re.S):
        labels = re.findall(r'class="axis" text-anchor="end">([^<]*)<', chart)
        if len(labels) != 3:   # the funnel's bullets: one "150 %" mark, no gridlines
            continue
        low, middle, top = (_axis_value(label) for label in labels)
        assert low == 0 and middle * 2 == pytest.approx(top, rel=1e-9), labels
        checked += 1
    assert checked >= 12, "the histogram and every trend chart"


@slow
@pytest.mark.parametrize("which", ["closed", "open"])
def test_each_row_of_a_table_is_headed_by_its_first_cell(closed_report, open_report, which):
    """A screen reader moving down the scorecard's status column read "breach, breach, met"
    without the KPIs: a row's first cell (the KPI, step, stage, reason or table) was no
    heading. Every table's rows, the scorecard's, bottleneck's, agreement's and data
    quality's as the charts' figures, now start with one (scope="row", table_headings)."""
    text = (closed_report if which == "closed" else open_report).read_text(encoding="utf-8")
    found = tables(text)
    assert len(found) >= 20, "the charts' figures and the pack's own tables"
    first = [(i, row[0]["tag"]) for i, table in enumerate(found) for row in table["rows"]]
    assert [(i, tag) for i, tag in first if tag != "th"] == [] and len(first) > 100


@slow
@pytest.mark.parametrize("which", ["closed", "open"])
def test_a_column_of_figures_has_its_heading_aligned_right_like_them(closed_report, open_report, which):
    text = (closed_report if which == "closed" else open_report).read_text(encoding="utf-8")
    checked = 0
    for table in tables(text):
        for i, heading in enumerate(table["head"]):
            # An empty cell (the bottleneck's "deal size and timing" has no expected volume) says nothing.
            cells = [row[i] for row in table["rows"] if len(row) == len(table["head"]) and row[i]["filled"]]
            figures = bool(cells) and all("num" in cell["classes"] for cell in cells)
            assert ("num" in heading) == figures, (table["head"], i)
            checked += figures
    assert checked >= 20, "the scorecard, bottleneck, recycling, agreement and data-quality tables"


@slow
def test_a_conversion_trend_with_one_judged_month_still_draws_the_agreed_rate(judged, tmp_path):
    from pipelines.report.render import write_report

    # The first review of an agreement (or a month between months not judged): each conversion
    # chart has one point, and its agreed rate must still be drawn, as the columns' target tick is.
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(judged.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("delete from judgements.kpi_status where period <> ?", [CLOSED])
    settings = Settings(sla_dir=judged.sla_dir, data_dir=judged.data_dir, warehouse=warehouse, home=judged.home)
    text = write_report(settings, CLOSED, tmp_path / "r.html", AS_OF).read_text(encoding="utf-8")
    section = re.search(r'<section id="trends".*?</section>', text, re.S).group(0)
    rates = section[section.index("<h3>Conversion rates</h3>"):]
    charts = re.findall(r'<svg class="chart".*?</svg>', rates, re.S)
    assert len(charts) == 5
    for chart in charts:
        path = re.search(r'<path d="([^"]*)" class="target-line"/>', chart)
        assert path and re.fullmatch(r"M[\d.]+,([\d.]+) L[\d.]+,\1", path.group(1)), "a level tick at the agreed rate"


@slow
def test_a_long_stage_label_fits_the_funnel_chart(judged, tmp_path):
    from pipelines.report.render import write_report
    from pipelines.report.svg import LABEL_CHAR_W

    long_mql = "Marketing qualified lead (scored by HubSpot)"
    too_long = "Sales qualified lead, accepted by an account executive after the discovery call"
    sla = tmp_path / "sla"
    shutil.copytree(judged.sla_dir, sla)
    h2 = sla / "acme-2026-h2.yaml"
    text = h2.read_text()
    for old, new in (("label: Marketing qualified,", f'label: "{long_mql}",'),
                     ("label: Sales qualified,", f'label: "{too_long}",')):
        assert old in text
        text = text.replace(old, new)
    h2.write_text(text)
    settings = Settings(sla_dir=sla, data_dir=judged.data_dir, warehouse=judged.warehouse, home=judged.home)
    page = write_report(settings, CLOSED, tmp_path / "r.html", AS_OF).read_text(encoding="utf-8")
    funnel = re.search(r'<section id="funnel".*?</section>', page, re.S).group(0)
    wide, narrow = [
        re.findall(r'<text x="([\d.]+)" y="[\d.]+" class="lbl" text-anchor="end">(?:<title>([^<]*)</title>)?([^<]*)<',
                   chart)
        for chart in re.findall(r'<svg class="chart".*?</svg>', funnel, re.S)]
    for labels in (wide, narrow):
        assert [full or shown for _, full, shown in labels] == [
            "Visits", "Leads", long_mql, too_long, "Opportunities", "Customers"]
        for x, full, shown in labels:
            # Anchored at its right end: the text must have room to its left, inside the chart.
            assert float(x) >= len(shown) * LABEL_CHAR_W, (shown, x)
            assert not full or (shown.endswith("…") and full.startswith(shown[:-1]))
    assert ("", long_mql) in [(full, shown) for _, full, shown in wide], "a label that fits is not cut"


@slow
def test_the_bottleneck_names_the_open_month_s_revenue_a_forecast_beside_the_scorecard_s_actual(open_report, closed_report):
    def revenue_and_text(path):
        page = path.read_text(encoding="utf-8")
        row = next(row for row in kpi_rows(page) if row["data-kpi"] == "revenue")
        return row, re.search(r'<section id="bottleneck".*?</section>', page, re.S).group(0)

    # Open: the bottleneck works at the current pace; its revenue is the forecast, not what
    # the scorecard shows as actual, and the sentence must not read as the revenue won.
    row, text = revenue_and_text(open_report)
    forecast, actual = number(row["data-forecast"]), number(row["data-actual"])
    assert forecast != actual
    assert f"Revenue is heading for USD {forecast:,.0f} (USD {actual:,.0f} so far) against a target" in text
    row, text = revenue_and_text(closed_report)
    assert f"Revenue is USD {number(row['data-actual']):,.0f} against a target" in text


# --- for screen readers and keyboards ----------------------------------------------------------

@slow
@pytest.mark.parametrize("which", ["closed", "open"])
def test_every_table_says_what_it_is_and_each_heading_cell_what_it_heads(closed_report, open_report, which):
    # A screen reader reads a table's caption before its cells, and a cell's column heading
    # with it (scope). An empty heading (over the bottleneck's bars) read as nothing.
    text = (closed_report if which == "closed" else open_report).read_text(encoding="utf-8")
    found = table_headings(text)
    assert len(found) >= 9, "scorecard cards, bottleneck, recycling, agreement and data quality"
    for table in found:
        assert table["caption"], table
        assert all(scope in ("col", "row") and words for scope, words in table["th"]), table
    captions = [table["caption"] for table in found]
    assert len(set(captions)) == len(captions), "each table named apart"
    assert {"Scorecard: Marketing", "Scorecard: Sales", "Tables loaded"} <= set(captions)


@slow
def test_a_box_that_scrolls_sideways_is_a_named_tab_stop(closed_report):
    # Narrower than its table or drawing (a phone, or 400 % zoom), a box scrolls: a keyboard
    # scrolls only what it can focus, and a screen reader names what it focused.
    boxes = [attrs for tag, attrs in scan(closed_report.read_text(encoding="utf-8")).elements
             if tag == "div" and {"table-box", "chart-narrow"} & set(attrs.get("class", "").split())]
    assert len(boxes) >= 11, "ten tables and the funnel's and histogram's narrow drawings"
    for box in boxes:
        assert (box.get("tabindex"), box.get("role")) == ("0", "region") and box.get("aria-label"), box


def _figures(text: str, title: str) -> list[list[str]]:
    """The rows (row heading, then cells) of the table of figures of the chart `title`."""
    found = re.search(rf'<div class="sr-only"><table class="figures"><caption>{re.escape(title)}, in figures</caption>.*?</table>', text)
    assert found, title
    body = found.group(0)[found.group(0).index("<tbody>"):]
    return [re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", row) for row in re.findall(r"<tr>(.*?)</tr>", body)]


@slow
def test_each_chart_s_figures_are_also_a_table_for_screen_readers(judged, closed_report):
    from pipelines.report.format import STATUS, money

    text = closed_report.read_text(encoding="utf-8")
    # One table per chart (the funnel and histogram are drawn twice, for two widths), after it.
    titles = list(dict.fromkeys(re.findall(r'<svg class="chart"[^>]*aria-label="([^"]*)"', text)))
    captions = re.findall(r'<div class="sr-only"><table class="figures"><caption>([^<]*), in figures</caption>', text)
    assert captions == titles and len(titles) == 14, "the funnel, 7 volume and 5 conversion trends, the histogram"
    # The same facts as the drawing: the revenue trend's figures are the judged ones, month by month.
    judged_revenue = _query(judged, "select period, actual, target, status from judgements.kpi_status "
                                    "where kpi = 'revenue' and period <= ? order by period", [CLOSED])
    assert _figures(text, "Revenue won per month and target") == [
        [j["period"] + (" (this review)" if j["period"] == CLOSED else ""), money(j["actual"], "USD"),
         money(j["target"], "USD"), STATUS[j["status"]][1]] for j in judged_revenue]
    # The histogram's bins hold every MQL of the month the text counts.
    bins = _figures(text, f"Hours to the first sales touch of {CLOSED}&#x27;s MQLs, against the 2 h limit")
    entered = re.search(r"([\d,]+) MQLs entered in", text).group(1)
    assert sum(int(count.replace(",", "")) for _, count, _ in bins) == int(entered.replace(",", "")) > 0


def test_a_table_of_figures_reads_a_zero_volume_s_share_the_bins_past_the_hours_and_statuses_in_words():
    """What a screen reader hears: a volume of 0 is 0 % of its target, not "—"; the bins after
    the hours ("no touch", "waiting") get no " h"; a status is the word its badge shows ("no
    data", "at risk"), not the scorecard's id."""
    from pipelines.report import figures, svg

    rows = [svg.BulletRow("MQLs", 0.0, 40.0, None, 0.05, "no_data", ()),
            svg.BulletRow("SQLs", 20.0, 40.0, None, 0.05, "at_risk", ())]
    assert _figures(figures.bullets(rows, "Volumes", paced=False), "Volumes") == [
        ["MQLs", "0", "40", "0%", "no data"], ["SQLs", "20", "40", "50%", "at risk"]]
    bins = [svg.Bin("0–0.5", 3, "in_time"), svg.Bin(">24", 1, "late"), svg.Bin("no touch", 2, "none"),
            svg.Bin("waiting", 1, "pending")]
    assert _figures(figures.bins(bins, "Hours"), "Hours") == [
        ["0 to 0.5 h", "3", "in time"], ["over 24 h", "1", "late"], ["no touch", "2", "late, never touched"],
        ["waiting", "1", "still within the limit"]]


def test_a_trend_s_table_of_figures_tells_a_target_and_actual_apart_as_the_scorecard_does():
    """A screen reader hears a month's target and actual as the scorecard shows them: a rate of
    2.04 % against 2 % read "2.0%" twice, and a breach of 89.96 % against 90 % "90.0%" twice."""
    from pipelines.report import figures, svg

    values = [svg.Point("2026-09", 0.8996, 0.9, "breach", None), svg.Point("2026-10", 0.0204, 0.02, "met", None),
              svg.Point("2026-11", None, None, None, None)]
    assert _figures(figures.points(values, "Hand-off", "handoff:first_touch", "USD", "2026-10"), "Hand-off") == [
        ["2026-09", "89.96%", "90.00%", "breach"], ["2026-10 (this review)", "2.04%", "2.00%", "met"],
        ["2026-11", "—", "—", "not judged"]]
    revenue = [svg.Point("2026-10", 99999.6, 100000.0, "met", None)]
    assert _figures(figures.points(revenue, "Revenue", "revenue", "USD", "2026-11"), "Revenue") == [
        ["2026-10", "USD 99,999.60", "USD 100,000.00", "met"]]


@slow
def test_every_in_page_link_has_one_target(several_report):
    # Two agreements' sections in one file: their ids must not collide, or a link opens the wrong part.
    page = scan(several_report.read_text(encoding="utf-8"))
    ids = [attrs["id"] for _, attrs in page.elements if "id" in attrs]
    assert len(ids) == len(set(ids))
    links = [value[1:] for _, attr, value in page.urls if attr == "href"]
    assert len(links) == 17 and set(links) <= set(ids)


def test_money_that_rounds_to_nothing_has_no_minus_sign():
    """A month whose revenue meets its target exactly read "USD -0 above the target": the gap
    was -0.0. A zero shows as 0, without a sign; an amount that is not zero never reads as
    zero, but in cents (40 cents read "USD 0")."""
    from pipelines.report.format import money

    assert [money(v, "USD") for v in (-0.0, -0.4, 0.0, 0.4, -0.6, -1234.5, 1234.4)] == [
        "USD 0", "−USD 0.40", "USD 0", "USD 0.40", "−USD 1", "−USD 1,235", "USD 1,234"]


def test_money_rounds_half_up_from_the_exact_value_as_the_plan_does():
    """A goal of 1,000,001 over two equal months is 500,000.5 a month: `plan --format csv` shows
    500000.50 and the pack read "USD 500,000" (Python rounds a double's half to even). Whole currency
    now rounds half up, from the exact figure when the pack has it."""
    from decimal import Decimal
    from fractions import Fraction

    from pipelines.report.format import money

    assert [money(v, "USD") for v in (500000.5, 2.5, Fraction(1000001, 2), Decimal("0.5"),
                                      Fraction(10**15 - 1, 2))] == [
        "USD 500,001", "USD 3", "USD 500,001", "USD 1", "USD 500,000,000,000,000"]


def test_counts_round_half_up_as_money_and_the_run_s_table_do():
    """A pace of 312.5 leads (125 in 12 of 30 days) read 312 in the pack and 313 in `funnelpact
    run`'s table; a weighted volume of 0.25 read 0.2, and -0.0 "-0". Counts now round half up
    from the exact value."""
    from pipelines.agreement.plan import rounded_decimal
    from pipelines.report.format import kpi_value, number

    assert [kpi_value("volume:lead", v, "USD") for v in (312.5, 2.5, 1234.5, 0.4, -0.0)] == [
        "313", "3", "1,235", "0.40", "0"]  # a pace that is not zero never reads 0
    assert [kpi_value("weighted_volume:mql", v, "USD") for v in (0.25, 77.25, 1234.05)] == ["0.3", "77.3", "1,234.1"]
    assert number(23460.45, decimals=1) == "23,460.5"
    # The bottleneck's customers lost: its table as its verdict, which rounded 3.125 apart.
    assert [number(v, decimals=2, signed=True) for v in (3.125, -1.2449, -0.001, 0.0)] == [
        "+3.13", "-1.24", "-0.001", "+0.00"]  # not zero, so not "-0.00"
    assert kpi_value("volume:lead", 312.5, "USD") == f"{rounded_decimal(312.5, 0):f}", "as the run's table rounds it"


# A revision that renamed `mql` (to `marketing_qualified`): no recycle_rate KPI, no MQLs.
WITHOUT_MQL = """\
apiVersion: funnelpact/v1
kind: Agreement
metadata: {name: acme, revision: h2, owners: {marketing: {name: Marta}, sales: {name: Joao}}}
spec:
  effective: {from: 2026-11, to: 2026-11}
  timezone: America/New_York
  currency: USD
  revenue_goal: 1000
  average_deal_size: 1000
  stages:
    - {id: lead, label: Leads, owner: marketing}
    - {id: marketing_qualified, label: MQL, owner: shared, crm_values: [mql]}
    - {id: customer, label: Customers, owner: sales}
  conversion:
    lead->marketing_qualified: {rate: 0.5}
    marketing_qualified->customer: {rate: 0.5}
  recycling: {reasons: [no budget]}
"""


def test_the_rules_of_a_revision_without_an_mql_stage_promise_no_recycle_rate(tmp_path):
    """A revision that renamed `mql` (here to `marketing_qualified`) has no recycle_rate KPI;
    its rules said "Recycling: rate reported." all the same."""
    from datetime import datetime

    from pipelines.agreement import load_agreements
    from pipelines.agreement.plan import plan_agreement
    from pipelines.report.gather import AgreementReport
    from pipelines.report.sections import agreement_rules

    (tmp_path / "h2.yaml").write_text(WITHOUT_MQL)
    (a,) = load_agreements(tmp_path)
    start, end = datetime(2026, 11, 1, 4), datetime(2026, 12, 1, 5)
    r = AgreementReport(agreement=a, month="2026-11", results=[], trend_months=[], trend={}, revision_of={},
                        plan=plan_agreement(a)[0], judged_as_of=end, judged_build=None, month_start=start, month_end=end)
    assert "<li>Recycling: no recycle rate (the funnel has no stage with id mql); agreed reasons: no budget.</li>" \
        in agreement_rules(r)


def test_the_recycling_of_a_revision_without_an_mql_stage_counts_no_reason_as_zero(tmp_path):
    """The recycle rate and its reasons count MQLs: a revision without `mql` has none, and its
    section listed each agreed reason at 0 MQLs (0 %) while the CRM recycled leads that month."""
    from datetime import datetime

    from pipelines.agreement import load_agreements
    from pipelines.agreement.plan import plan_agreement
    from pipelines.report.gather import AgreementReport
    from pipelines.report.sections import recycling

    (tmp_path / "h2.yaml").write_text(WITHOUT_MQL)
    (a,) = load_agreements(tmp_path)
    start, end = datetime(2026, 11, 1, 4), datetime(2026, 12, 1, 5)
    r = AgreementReport(agreement=a, month="2026-11", results=[], trend_months=[], trend={}, revision_of={},
                        plan=plan_agreement(a)[0], judged_as_of=end, judged_build=None, month_start=start, month_end=end)
    html = recycling(r)
    assert 'data-reason="no budget"' not in html and "<table" not in html, html
    assert "no stage with id mql" in html, html


def test_a_trend_month_judged_by_a_revision_without_the_kpi_says_so_not_that_it_was_not_judged():
    """h2 renamed sql to sal: June (h1) has no volume:sal. Its figures read "not judged", and
    the note's backfill could not add it."""
    from datetime import datetime

    from pipelines.agreement import load_agreements
    from pipelines.agreement.plan import plan_agreement
    from pipelines.report.gather import AgreementReport
    from pipelines.report.sections import trends

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "sla" / "valid" / "renamed-stage-listing-the-old-id-as-a-crm-value"
    h1, h2 = sorted(load_agreements(fixture), key=lambda a: a.revision)
    row = {"actual": 3.0, "target": 2.0, "status": "met"}
    trend = {("2026-06", kpi): row for kpi in ("volume:lead", "volume:sql", "volume:customer")}
    trend |= {("2026-07", kpi): row for kpi in ("volume:lead", "volume:sal", "volume:customer")}
    r = AgreementReport(agreement=h2, month="2026-07", results=[], trend_months=["2026-05", "2026-06", "2026-07"],
                        trend=trend, revision_of={"2026-05": "h1", "2026-06": "h1", "2026-07": "h2"},
                        plan=next(p for p in plan_agreement(h2) if p.period == "2026-07"),
                        judged_as_of=datetime(2026, 8, 2), judged_build=None,
                        month_start=datetime(2026, 6, 30, 22), month_end=datetime(2026, 7, 31, 22))
    html = trends(r)
    sal = html[html.index("Sales accepted: monthly volume and target, in figures"):]
    sal = sal[:sal.index("</table>")]
    assert "<th scope=\"row\">2026-06</th><td>—</td><td>—</td><td>not in revision h1</td>" in sal, sal
    assert "<th scope=\"row\">2026-05</th><td>—</td><td>—</td><td>not judged</td>" in sal, "May was not judged at all"
    assert "Not judged yet, so left blank: 2026-05 " in html
    # h2 begins in July: the one new revision, not the first month shown, however its revision differs from the last's.
    assert "a dotted vertical line marks a new revision of the agreement (2026-07)." in html


def test_control_characters_of_a_crm_reason_are_shown_escaped_not_written_raw() -> None:
    """A recycle reason pasted from Word holds a vertical tab; another an ESC or a NUL. HTML
    cannot hold them (a parse error; a NUL becomes U+FFFD): they were written raw into the
    pack, markup escaped around them."""
    from datetime import UTC, datetime

    from pipelines.agreement import load_agreements
    from pipelines.report.gather import AgreementReport
    from pipelines.report.sections import recycling

    [h1] = [a for a in load_agreements(Path(__file__).parents[2] / "sla") if a.metadata.revision == "2026-h1"]
    r = AgreementReport(agreement=h1, month="2026-03", results=[], trend_months=[], trend={}, revision_of={},
                        plan=None, judged_as_of=datetime(2026, 4, 2, tzinfo=UTC), judged_build=None,
                        month_start=datetime(2026, 3, 1, 6, tzinfo=UTC), month_end=datetime(2026, 4, 1, 6, tzinfo=UTC),
                        recycle_reasons=[("Sin presupuesto\x0bvolver en Q3 <b>", 2), ("x\x1b[31m\x00\x7f", 1)])
    html = recycling(r)
    assert not re.search("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]", html)
    assert '<th scope="row">Sin presupuesto\\x0bvolver en Q3 &lt;b&gt; <span class="flag">' in html
    assert 'data-reason="x\\x1b[31m\\x00\\x7f"' in html


def test_the_trends_name_the_months_between_two_revisions_they_leave_out(tmp_path):
    """2026-q1 ends in March, 2026-q3 starts in May: the charts' axis went from 03 straight to
    05, April not named anywhere, as if it were no month of the year."""
    from datetime import datetime

    from pipelines.agreement import load_agreements
    from pipelines.agreement.plan import plan_agreement
    from pipelines.report.gather import AgreementReport
    from pipelines.report.sections import trends

    minimal = (Path(__file__).resolve().parents[1] / "fixtures" / "sla" / "valid" /
               "minimal-agreement-relying-on-defaults.yaml").read_text()
    (tmp_path / "q1.yaml").write_text(minimal.replace('revision: "1"', "revision: 2026-q1"))
    (tmp_path / "q3.yaml").write_text(minimal.replace('revision: "1"', "revision: 2026-q3")
                                      .replace("from: 2026-01, to: 2026-03", "from: 2026-05, to: 2026-07"))
    q3 = next(a for a in load_agreements(tmp_path) if a.revision == "2026-q3")
    months = ["2026-01", "2026-02", "2026-03", "2026-05"]
    row = {"actual": 3.0, "target": 2.0, "status": "met"}
    r = AgreementReport(agreement=q3, month="2026-05", results=[], trend_months=months,
                        trend={(m, "volume:lead"): row for m in months},
                        revision_of={m: "2026-q1" for m in months[:3]} | {"2026-05": "2026-q3"},
                        plan=next(p for p in plan_agreement(q3) if p.period == "2026-05"),
                        judged_as_of=datetime(2026, 6, 2), judged_build=None,
                        month_start=datetime(2026, 5, 1), month_end=datetime(2026, 6, 1))
    html = trends(r)
    assert "No revision of the agreement is in force in 2026-04: never judged, so left out of the charts." in html
    assert "Not judged yet" not in html


def test_the_data_quality_section_states_the_agreed_quarantine_maximum_as_agreed():
    """A maximum of 1.25 % read "max 1.3%": rounded like a measured share, it misstated the
    agreed limit (the recycle rate's maximum is shown as agreed)."""
    from datetime import datetime

    from pipelines.report.gather import ReportData
    from pipelines.report.sections import data_quality

    data = ReportData(month=OPEN, as_of=datetime(2026, 11, 25), warehouse=Path("w.duckdb"), agreements=[],
                      data_quality={"quarantined_rows": 3, "duplicate_rows": 0, "by_reason": {"unknown_contact": 3}},
                      load_report=[], build_as_of=None)
    results = [{"kpi": "data_quality:quarantine_rate", "target": 0.0125, "actual": 0.001, "status": "met"}]
    assert "Quarantine rate 0.10% (max 1.25%)" in data_quality(data, results)


def test_the_data_quality_section_reads_the_quarantine_rate_as_the_scorecard_does():
    """The section wrote every rate with 2 decimals ("1.50%") beside the scorecard's "1.5%":
    one figure, one text (2 decimals only under 1 %)."""
    from datetime import datetime

    from pipelines.report.format import kpi_value
    from pipelines.report.gather import ReportData
    from pipelines.report.sections import data_quality

    data = ReportData(month=OPEN, as_of=datetime(2026, 11, 25), warehouse=Path("w.duckdb"), agreements=[],
                      data_quality={"quarantined_rows": 3, "duplicate_rows": 0, "by_reason": {"unknown_contact": 3}},
                      load_report=[], build_as_of=None)
    results = [{"kpi": "data_quality:quarantine_rate", "target": 0.02, "actual": 0.015, "status": "met"}]
    assert kpi_value("data_quality:quarantine_rate", 0.015, "USD") == "1.5%"
    assert "Quarantine rate 1.5% (max 2%)" in data_quality(data, results)


def _h2_report(results: list[dict], handoffs=(), edits: dict[str, str] | None = None, folder: Path | None = None):
    """The closed month of sla/'s 2026-h2 with these judgements, as gather builds it; `edits`
    (old text: new) made to a copy of the file in `folder`."""
    from datetime import datetime

    from pipelines.agreement import load_agreements
    from pipelines.agreement.plan import plan_agreement
    from pipelines.report.gather import AgreementReport

    source = Path(__file__).resolve().parents[2] / "sla" / "acme-2026-h2.yaml"
    if edits:
        text = source.read_text(encoding="utf-8")
        for before, after in edits.items():
            assert before in text, before
            text = text.replace(before, after)
        source = folder / source.name
        source.write_text(text, encoding="utf-8")
    (a,) = load_agreements(source)
    plan = next(p for p in plan_agreement(a) if p.period == CLOSED)
    start, end = datetime(2026, 10, 1, 6), datetime(2026, 11, 1, 6)
    return AgreementReport(agreement=a, month=CLOSED, results=results, trend_months=[], trend={}, revision_of={},
                           plan=plan, judged_as_of=end + (end - start), judged_build=None, month_start=start,
                           month_end=end, handoffs=list(handoffs))


def test_the_hand_off_recycling_and_quarantine_sentences_read_a_rate_as_the_scorecard_does():
    """Rounded on its own, an attainment of 89.96 % read "Attainment 90.0% against the agreed 90%
    — breach", where the scorecard reads 89.96% against 90.00%; a recycle rate of 35.004 %
    "35.0% (max 35%) — breach"."""
    from datetime import datetime

    from pipelines.report.gather import Handoff, ReportData
    from pipelines.report.sections import data_quality, handoffs, recycling

    results = [{"kpi": "handoff:first_touch", "target": 0.9, "actual": 0.8996, "status": "breach"},
               {"kpi": "recycle_rate", "target": 0.35, "actual": 0.35004, "status": "breach"},
               {"kpi": "data_quality:quarantine_rate", "target": 0.02, "actual": 0.020004, "status": "breach"}]
    r = _h2_report(results, [Handoff(1.0, "in_time"), Handoff(3.0, "breach")])
    assert "Attainment 89.96% against the agreed 90%" in handoffs(r)
    assert "Recycle rate 35.004% (max 35%)" in recycling(r)
    data = ReportData(month=CLOSED, as_of=datetime(2026, 11, 25), warehouse=Path("w.duckdb"), agreements=[r],
                      data_quality={"quarantined_rows": 3, "duplicate_rows": 0, "by_reason": {"unknown_contact": 3}},
                      load_report=[], build_as_of=None)
    assert "Quarantine rate 2.0004% (max 2%)" in data_quality(data, results)


def test_a_number_and_its_noun_agree(tmp_path):
    """A 1-hour first touch read "within 1 hours", a month of one MQL "1 MQLs entered", one
    quarantined row "1 rows quarantined", a team of one KPI "1 KPIs"."""
    from datetime import datetime

    from pipelines.report.gather import Handoff, ReportData
    from pipelines.report.sections import agreement_rules, data_quality, handoffs, scorecard

    results = [{"kpi": "handoff:first_touch", "target": 0.9, "actual": 1.0, "status": "met", "owner": "sales",
                "severity": "fail", "agreement": "acme", "revision": "2026-h2", "period": CLOSED}]
    r = _h2_report(results, [Handoff(0.5, "in_time")], folder=tmp_path, edits={
        "first_touch: {within_hours: 2,": "first_touch: {within_hours: 1,",
        "decision: {within_days: 3,": "decision: {within_days: 1,",
        "mql->sql: {rate: 0.50, method: cohort, window_days: 30}": "mql->sql: {rate: 0.50, method: cohort, window_days: 1}"})
    text = " ".join(re.sub(r"<[^>]+>", "", handoffs(r) + agreement_rules(r) + scorecard(r)).split())
    assert "within 1 hour," in text and "1 MQL entered" in text, text
    assert "within 1 hour, for at least 90% of MQLs" in text and "within 1 day, for at least" in text, text
    assert "cohort within 1 day" in text and "Sales 1 KPI, 0 breached" in text, text
    assert "Accept or reject within 1 day" in text, text
    assert not re.search(r"\b1 (hours|days|MQLs|KPIs)\b", text), text
    data = ReportData(month=CLOSED, as_of=datetime(2026, 11, 25), warehouse=Path("w.duckdb"), agreements=[r],
                      data_quality={"quarantined_rows": 1, "duplicate_rows": 1, "by_reason": {"unknown_contact": 1}},
                      load_report=[], build_as_of=None)
    assert "1 row quarantined, 1 exact duplicate removed." in data_quality(data, [])
    assert "1,204 rows quarantined, 2 exact duplicates removed." in data_quality(
        ReportData(month=CLOSED, as_of=datetime(2026, 11, 25), warehouse=Path("w.duckdb"), agreements=[r],
                   data_quality={"quarantined_rows": 1204, "duplicate_rows": 2, "by_reason": {}}, load_report=[],
                   build_as_of=None), [])


def test_the_scorecard_legend_says_what_each_status_means():
    """"✗ breach" stood alone, and "provisional" gave the month or cohort as the reasons while
    a closed month's hand-off KPIs are provisional until their window passes (docs/report.md)."""
    from pipelines.report.sections import scorecard

    legend = re.search(r'<p class="note">Status: (.*?)</p>', scorecard(_month_report(HAND_MADE))).group(1)
    said = re.sub(r"<[^>]+>", "", legend)
    for status, meaning in [("✓ met", "at or within tolerance of target"), ("✗ breach", "outside tolerance, final"),
                            ("! at risk", "the pace forecast would breach"),
                            ("… provisional", "the month, cohort or hand-off window is still open"),
                            ("– no data", "no figure: a table the KPI needs was not delivered, or nobody to divide by "
                                          "once the month is final")]:
        assert f"{status} {meaning}" in said, (status, said)


def test_the_trends_of_the_agreement_s_first_month_explain_no_revision_line_they_do_not_draw():
    """The pack of January, the window's first month: "Every month of the agreement from 2026-01
    to 2026-01", and a note explaining "a dotted vertical line" that no chart draws."""
    from pipelines.report.sections import trends

    r = _h2_report([])
    r.month, r.trend_months = "2026-07", ["2026-07"]
    r.trend = {("2026-07", "volume:lead"): {"actual": 3.0, "target": 2.0, "status": "met"}}
    r.revision_of = {"2026-07": "2026-h2"}
    text = re.sub(r"<[^>]+>", "", trends(r))
    assert "2026-07 is the agreement's first month: the trends start with it." in text
    assert "from 2026-07 to 2026-07" not in text and "dotted vertical line" not in text, text
    r.trend_months, r.revision_of = ["2026-06", "2026-07"], {"2026-06": "2026-h1", "2026-07": "2026-h2"}
    text = re.sub(r"<[^>]+>", "", trends(r))
    assert "Every month of the agreement from 2026-06 to 2026-07" in text
    assert "a dotted vertical line marks a new revision of the agreement (2026-07)." in text


@pytest.mark.parametrize("value, target, tolerance, shown", [
    (189, 199, 0.05, "94.97%"),   # a breach: short of the 95 % that is still met
    (190, 200, 0.05, "95%"),      # on the line: met, and reads it
    (28268, 23461, 0.05, "120%"),
    (9502, 10000, 0.05, "95.02%"),  # a met pace just over the line
    (89.96, 100, 0.1, "89.96%"),
    (0, 40, 0.05, "0%"),
], ids=["breach under the line", "on the line", "far from it", "met just over it", "another tolerance", "zero"])
def test_a_share_of_target_never_reads_as_the_line_a_kpi_is_met_at_unless_it_is_on_it(value, target, tolerance, shown):
    from pipelines.report.format import share_of_target

    assert share_of_target(value, target, tolerance) == shown


def test_the_funnel_and_pace_write_a_volume_s_share_of_target_off_the_met_line():
    """189 of 199 with a 5 % tolerance is a breach; its bar's text read "(95%)", and the pace
    table's forecast ÷ target "95%" beside at risk, as if it were on the line that is met."""
    from pipelines.report.sections import funnel, pace

    r = _month_report([("volume:lead", "marketing", 199.0, 150.0, 189.0, "at_risk", "warn"),  # 5 % tolerance
                       ("volume:mql", "shared", 199.0, 189.0, None, "breach", "fail")])
    assert "189 of 199 (94.97%)" in funnel(r)
    assert '<td class="num">94.97%</td>' in pace(r)
