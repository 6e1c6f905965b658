"""Judging the scorecard with the generated suites: GX decides pass/fail, statuses follow.

Every test builds a `marts.scorecard` on target (conftest) and changes only its subject.
All of them run Great Expectations (~3 s to import once, then well under a second each).
"""

from __future__ import annotations

import json

import shutil
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.agreement import load_agreements
from pipelines.checks.compile import suite_path, write_suites
from pipelines.checks.validate import (
    KpiResult,
    ScorecardError,
    exit_code,
    judge,
    run_checks,
    status_of,
)
from pipelines.errors import InputError

from .conftest import ROOT, SLA, row, scorecard_rows, write_scorecard

pytestmark = pytest.mark.slow  # great_expectations: a ~3 s import, then ~0.3-1 s per judgement

AS_OF = "2026-04-11 00:00:00"


def by_key(results: list[KpiResult]) -> dict[tuple[str, str], KpiResult]:
    return {(r.period, r.kpi): r for r in results}


def not_met(results: list[KpiResult]) -> dict[tuple[str, str], str]:
    return {(r.period, r.kpi): r.status for r in results if r.status != "met"}


def test_a_scorecard_on_target_is_met_everywhere(scorecard) -> None:
    results = judge(scorecard(upto="2026-03"), load_agreements(SLA), None, AS_OF)
    assert len(results) == 3 * 17 and not_met(results) == {}
    assert exit_code(results) == 0


def test_a_breached_target_fails_exactly_its_expectation(scorecard, agreements) -> None:
    con = scorecard(lambda rows: row(rows, "2026-03", "volume:mql").update(actual=100.0), upto="2026-03")
    run = run_checks(con, agreements, None, AS_OF)
    assert not_met(run.results) == {("2026-03", "volume:mql"): "breach"}
    breach = by_key(run.results)[("2026-03", "volume:mql")]
    assert (breach.target, breach.actual, breach.threshold, breach.owner) == (150.0, 100.0, 142.5, "shared")
    assert breach.suite == "acme.2026-h1.volume" and breach.severity == "fail"
    failed = [r for v in run.validations for r in v.results if not r.success]
    assert [f.expectation_config.id for f in failed] == [breach.expectation_id]
    assert failed[0].expectation_config.meta["kpi"] == "volume:mql"
    assert failed[0].result["observed_value"] == 100.0
    assert exit_code(run.results) == 1


def test_the_bound_itself_is_met(scorecard, agreements) -> None:
    con = scorecard(lambda rows: row(rows, "2026-03", "volume:mql").update(actual=142.5), upto="2026-03")
    assert not_met(judge(con, agreements, ["2026-03"], AS_OF)) == {}


def test_a_warn_severity_breach_does_not_fail_the_run(scorecard, agreements) -> None:
    # volume:visit is `severity: warn` in sla/acme-2026-h1.yaml.
    con = scorecard(lambda rows: row(rows, "2026-02", "volume:visit").update(actual=10.0), upto="2026-03")
    results = judge(con, agreements, None, AS_OF)
    visit = by_key(results)[("2026-02", "volume:visit")]
    assert (visit.status, visit.severity) == ("breach", "warn")
    assert exit_code(results) == 0


def test_an_open_month_below_target_is_provisional_not_a_breach(scorecard, agreements) -> None:
    def edit(rows):
        mql = row(rows, "2026-04", "volume:mql")
        mql.update(actual=1.0, forecast=None)  # far below, but the month is still open

    con = scorecard(edit, upto="2026-04", open_month="2026-04")
    results = judge(con, agreements, ["2026-04"], AS_OF)
    statuses = {r.status for r in results}
    assert statuses == {"provisional"}
    assert exit_code(results) == 0


def test_an_open_month_whose_pace_would_breach_is_at_risk(scorecard, agreements) -> None:
    def edit(rows):
        row(rows, "2026-04", "revenue").update(actual=10000.0, forecast=30000.0)  # target 100000
        row(rows, "2026-04", "volume:sql").update(actual=20.0, forecast=60.0)  # target 61, bound 57.95

    con = scorecard(edit, upto="2026-04", open_month="2026-04")
    results = by_key(judge(con, agreements, ["2026-04"], AS_OF))
    assert results[("2026-04", "revenue")].status == "at_risk"
    assert results[("2026-04", "volume:sql")].status == "provisional"  # 60 >= 57.95: on pace
    assert results[("2026-04", "revenue")].forecast == 30000.0


def test_an_immature_cohort_in_a_closed_month_stays_provisional(scorecard, agreements) -> None:
    def edit(rows):
        row(rows, "2026-02", "conversion:opportunity->customer").update(actual=0.01, is_final=False)

    con = scorecard(edit, upto="2026-03")
    results = by_key(judge(con, agreements, None, AS_OF))
    assert results[("2026-02", "conversion:opportunity->customer")].status == "provisional"


def test_missing_data_is_no_data_never_a_breach(scorecard, agreements) -> None:
    def edit(rows):
        row(rows, "2026-02", "revenue").update(has_data=False, actual=None)  # deals absent
        row(rows, "2026-02", "conversion:mql->sql").update(actual=None)  # no MQLs: 0/0

    con = scorecard(edit, upto="2026-03")
    results = judge(con, agreements, None, AS_OF)
    assert not_met(results) == {
        ("2026-02", "revenue"): "no_data", ("2026-02", "conversion:mql->sql"): "no_data",
    }
    assert exit_code(results) == 0


@pytest.mark.parametrize(
    ("rate", "status"),
    [(0.01, "met"), (0.021, "met"), (0.03, "breach")],
    ids=["well-under-the-limit", "at-the-limit-plus-tolerance", "over-the-limit"],
)
def test_the_quarantine_rate_is_judged_at_most(scorecard, agreements, rate, status) -> None:
    # data_quality.max_quarantine_rate defaults to 0.02; tolerance 5%: at most 0.021.
    con = scorecard(
        lambda rows: row(rows, "2026-03", "data_quality:quarantine_rate").update(actual=rate), upto="2026-03"
    )
    result = by_key(judge(con, agreements, None, AS_OF))[("2026-03", "data_quality:quarantine_rate")]
    assert (result.status, result.direction, result.suite) == (status, "at_most", "acme.2026-h1.data_quality")


def test_the_recycle_rate_is_judged_at_most(scorecard, agreements) -> None:
    con = scorecard(lambda rows: row(rows, "2026-01", "recycle_rate").update(actual=0.5), upto="2026-03")
    assert not_met(judge(con, agreements, None, AS_OF)) == {("2026-01", "recycle_rate"): "breach"}


def test_a_kpi_without_a_target_is_reported_not_judged(tmp_path) -> None:
    text = (SLA / "acme-2026-h1.yaml").read_text().replace("  recycling: {max_rate: 0.35, ", "  recycling: {")
    (tmp_path / "a.yaml").write_text(text)
    agreements = load_agreements(tmp_path / "a.yaml")
    rows = scorecard_rows(agreements, upto="2026-02")
    row(rows, "2026-01", "recycle_rate")["actual"] = 0.9
    results = by_key(judge(write_scorecard(duckdb.connect(), rows), agreements, None, AS_OF))
    recycle = results[("2026-01", "recycle_rate")]
    assert (recycle.status, recycle.judged, recycle.target, recycle.expectation_id) == ("provisional", False, None, None)


def test_only_the_requested_months_are_judged(scorecard, agreements) -> None:
    results = judge(scorecard(upto="2026-08", open_month="2026-08"), agreements, ["2026-02", "2026-08"], AS_OF)
    assert {(r.period, r.revision) for r in results} == {("2026-02", "2026-h1"), ("2026-08", "2026-h2")}


def test_a_period_that_is_not_a_month_is_bad_input(scorecard, agreements) -> None:
    from pipelines.errors import InputError

    with pytest.raises(InputError, match="'2026-3': expected months as YYYY-MM"):
        judge(scorecard(upto="2026-01"), agreements, ["2026-3"], AS_OF)


def test_each_month_is_judged_by_the_revision_in_force(scorecard, agreements) -> None:
    # H2 lowered lead->mql from 0.30 to 0.25: 0.27 breaches in June, meets in July.
    def edit(rows):
        row(rows, "2026-06", "conversion:lead->mql")["actual"] = 0.27
        row(rows, "2026-07", "conversion:lead->mql")["actual"] = 0.27

    results = by_key(judge(scorecard(edit, upto="2026-07"), agreements, ["2026-06", "2026-07"], AS_OF))
    assert results[("2026-06", "conversion:lead->mql")].status == "breach"
    assert results[("2026-07", "conversion:lead->mql")].status == "met"


def test_duplicate_scorecard_keys_stop_the_judgement(scorecard, agreements) -> None:
    con = scorecard(lambda rows: rows.append(dict(row(rows, "2026-02", "revenue"))), upto="2026-03")
    run = run_checks(con, agreements, None, AS_OF)
    assert [f.check for f in run.failed_checks] == ["keys_unique"]
    with pytest.raises(ScorecardError, match="keys_unique"):
        judge(con, agreements, None, AS_OF)


def test_facts_dated_after_as_of_fail_the_data_quality_suite(scorecard, agreements) -> None:
    con = scorecard(upto="2026-03")
    con.execute(
        "create table marts.mql_handoffs as select 'acme' as agreement, '2026-h1' as revision, "
        "timestamp '2026-03-02 10:00:00' as mql_entered_at, timestamp '2026-05-01 00:00:00' as first_touch_at, "
        "cast(null as timestamp) as decided_at"
    )
    run = run_checks(con, agreements, None, AS_OF)
    assert [f.check for f in run.failed_checks] == ["no_future_facts"]
    assert run_checks(con, agreements, None, "2026-05-02 00:00:00").failed_checks == []


def test_a_warehouse_built_from_other_targets_is_refused(scorecard, agreements) -> None:
    con = scorecard(lambda rows: row(rows, "2026-03", "volume:mql").update(target=120.0), upto="2026-03")
    with pytest.raises(ScorecardError, match="2026-03 volume:mql: scorecard target 120.0, suite target 150"):
        judge(con, agreements, None, AS_OF)


def test_the_committed_suites_judge_like_the_compiled_ones(scorecard, agreements, tmp_path) -> None:
    # It compared suites just written from the in-memory ones with those: expectations/ was
    # never read, and a suites_dir judge() ignored passed as well.
    con = scorecard(lambda rows: row(rows, "2026-03", "volume:mql").update(actual=100.0), upto="2026-03")
    committed = judge(con, agreements, None, AS_OF, suites_dir=ROOT / "expectations")
    assert not_met(committed) == {("2026-03", "volume:mql"): "breach"}
    assert committed == judge(con, agreements, None, AS_OF)
    # The folder's suites are what judge: a bound lowered there meets the same scorecard.
    edited = tmp_path / "expectations"
    shutil.copytree(ROOT / "expectations", edited, ignore=shutil.ignore_patterns("uncommitted"))
    volume = edited / suite_path("acme", "2026-h1", "volume")
    volume.write_text(volume.read_text(encoding="utf-8").replace('"min_value": 142.5', '"min_value": 100'),
                      encoding="utf-8")
    assert not_met(judge(con, agreements, None, AS_OF, suites_dir=edited)) == {}


def test_a_hand_edited_check_without_an_id_still_judges_with_its_meta(scorecard, agreements, tmp_path) -> None:
    # GX is given each expectation without its meta, which comes back by id: a data-quality
    # check without an id (a hand-edited suite's; it needs none) was a KeyError, "this is a bug".
    write_suites(agreements, tmp_path)
    checks = tmp_path / suite_path("acme", "2026-h1", "data_quality")
    suite = json.loads(checks.read_text(encoding="utf-8"))
    for e in suite["expectations"]:
        if e["meta"].get("kpi") is None:
            e.pop("id", None)
    checks.write_text(json.dumps(suite), encoding="utf-8")
    con = scorecard(lambda rows: row(rows, "2026-03", "volume:mql").update(actual=100.0), upto="2026-03")
    assert judge(con, agreements, None, AS_OF, suites_dir=tmp_path) == judge(con, agreements, None, AS_OF)


def test_two_checks_of_a_hand_edited_suite_with_one_id_each_judge_with_their_own_meta(scorecard, agreements,
                                                                                    tmp_path) -> None:
    # A check copied in a suite keeps the id of the one copied; GX, given both without their
    # meta, had the second's given back to both: both results read as one KPI's, the other
    # KPI's was lost, and the run failed ("a final, judged KPI was not validated").
    write_suites(agreements, tmp_path)
    volume = tmp_path / suite_path("acme", "2026-h1", "volume")
    suite = json.loads(volume.read_text(encoding="utf-8"))
    first = next(e for e in suite["expectations"] if e["meta"].get("kpi") == "volume:mql"
                 and e["meta"].get("period") == "2026-03")
    for e in suite["expectations"]:
        if e["meta"].get("kpi") == "volume:lead" and e["meta"].get("period") == "2026-02":
            e["id"] = first["id"]
    volume.write_text(json.dumps(suite), encoding="utf-8")
    con = scorecard(lambda rows: row(rows, "2026-03", "volume:mql").update(actual=100.0), upto="2026-03")
    # The same judgement, but for the id the edit gave volume:lead's check.
    edited, compiled = (judge(con, agreements, None, AS_OF, suites_dir=d) for d in (tmp_path, None))
    assert [replace(r, expectation_id=None) for r in edited] == [replace(r, expectation_id=None) for r in compiled]


def test_a_committed_suite_that_is_not_json_is_bad_input_naming_it(scorecard, agreements, tmp_path) -> None:
    # It was a bare JSONDecodeError ("Expecting property name …: line 1 column 2"), naming no file.
    write_suites(agreements, tmp_path)
    volume = tmp_path / suite_path("acme", "2026-h1", "volume")
    volume.write_text("{not json")
    with pytest.raises(InputError) as raised:
        judge(scorecard(upto="2026-03"), agreements, None, AS_OF, suites_dir=tmp_path)
    assert str(raised.value).startswith(f"{volume}: suite acme.2026-h1.volume cannot be read (Expecting property name")
    assert str(raised.value).endswith("expected the JSON `funnelpact compile` writes (run it again)")


def test_a_warehouse_file_path_is_accepted(scorecard, agreements, tmp_path) -> None:
    path = tmp_path / "warehouse.duckdb"
    write_scorecard(duckdb.connect(str(path)), scorecard_rows(agreements, upto="2026-02")).close()
    assert len(judge(path, agreements, None, datetime(2026, 3, 5))) == 2 * 17


def test_data_docs_show_the_suites_and_the_run(scorecard, agreements, tmp_path) -> None:
    from pipelines.checks.docs import build_data_docs

    write_suites(agreements, tmp_path)
    con = scorecard(lambda rows: row(rows, "2026-03", "volume:mql").update(actual=100.0), upto="2026-03")
    index = build_data_docs(run_checks(con, agreements, None, AS_OF), project_dir=tmp_path)
    assert index.exists() and index.is_relative_to(tmp_path / "gx" / "uncommitted")
    pages = [p.read_text() for p in index.parent.rglob("*.html")]
    assert any("volume:mql in 2026-03 (shared): at least 142.5" in p for p in pages)
    assert list((index.parent / "validations").rglob("judgement-acme.2026-h1.volume.html"))


def test_data_docs_of_a_project_whose_gx_config_is_broken_exit_2_naming_the_config(agreements, tmp_path) -> None:
    # A hand edit GX cannot read ended in "funnelpact failed unexpectedly
    # (InvalidDataContextConfigError …); this is a bug", exit 3.
    from typer.testing import CliRunner

    from pipelines.cli import app

    write_suites(agreements, tmp_path)
    config = tmp_path / "gx" / "great_expectations.yml"
    config.write_text(config.read_text().replace("config_version: 4", "config_version: four"))
    result = CliRunner().invoke(app, ["compile", "--sla", str(SLA), "--out", str(tmp_path), "--data-docs"])
    assert result.exit_code == 2, result.output
    assert (f"{config}: Great Expectations cannot open this project (InvalidDataContextConfigError: "
            "Error while processing DataContextConfig: config_version); expected the config funnelpact writes"
            ) in " ".join(result.stderr.split())
    assert "bug" not in result.stderr


@pytest.mark.parametrize(
    ("text", "why"),
    [("<<<<<<< HEAD\n{}\n", "JSONDecodeError: Expecting value: line 1 column 1 (char 0)"),
     ('{"nmae": "team.checks", "expectations": []}', "ValidationError: {'nmae': ['Unknown field.']}")],
    ids=["not-json", "not-a-suite"])
def test_data_docs_of_a_project_with_a_suite_gx_cannot_read_exit_2_naming_it(agreements, tmp_path, text, why) -> None:
    # A suite file of the team's own (or one a merge left with conflict markers) ended in
    # "funnelpact failed unexpectedly (JSONDecodeError …); this is a bug", exit 3.
    from typer.testing import CliRunner

    from pipelines.cli import app

    own = tmp_path / "gx" / "expectations" / "team" / "checks.json"
    own.parent.mkdir(parents=True)
    own.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["compile", "--sla", str(SLA), "--out", str(tmp_path), "--data-docs"])
    assert result.exit_code == 2, result.output
    assert (f"{own}: Great Expectations cannot read this suite ({why}); expected a suite in GX's JSON format "
            "(fix or delete it; `funnelpact compile` rewrites the suites it generates)") in " ".join(result.stderr.split())
    assert "bug" not in result.stderr


def test_data_docs_into_a_folder_it_may_not_write_exit_2_naming_it(agreements, tmp_path, without_root_override) -> None:
    # GX logged a traceback for every page it could not write, then the command ended with
    # "…; this is a bug", exit 3.
    write_suites(agreements, tmp_path)
    (tmp_path / "gx").chmod(0o555)
    try:
        done = without_root_override("from pipelines.cli import main; main()",
                                     "compile", "--sla", str(SLA), "--out", str(tmp_path), "--data-docs")
    finally:
        (tmp_path / "gx").chmod(0o755)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        f"error {tmp_path}: cannot write the data docs (Permission denied: {tmp_path / 'gx' / 'uncommitted'}); "
        "expected a project folder this user can write into"]


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"has_data": False, "actual": None, "is_final": True, "judged": True, "actual_passed": None, "forecast_passed": None}, "no_data"),
        ({"has_data": True, "actual": 1.0, "is_final": True, "judged": True, "actual_passed": False, "forecast_passed": None}, "breach"),
        ({"has_data": True, "actual": 1.0, "is_final": False, "judged": True, "actual_passed": False, "forecast_passed": None}, "provisional"),
        ({"has_data": True, "actual": 1.0, "is_final": False, "judged": True, "actual_passed": True, "forecast_passed": False}, "at_risk"),
        ({"has_data": True, "actual": 1.0, "is_final": True, "judged": False, "actual_passed": None, "forecast_passed": None}, "provisional"),
        # Nobody to divide by yet in an open month: the figure may still come (SPEC section 4).
        ({"has_data": True, "actual": None, "is_final": False, "judged": True, "actual_passed": None, "forecast_passed": None}, "provisional"),
        ({"has_data": True, "actual": None, "is_final": True, "judged": True, "actual_passed": None, "forecast_passed": None}, "no_data"),
        ({"has_data": False, "actual": None, "is_final": False, "judged": True, "actual_passed": None, "forecast_passed": None}, "no_data"),
    ],
    ids=["no-figure-is-no_data", "final-and-failing-is-breach", "open-and-failing-is-provisional",
         "open-and-failing-pace-is-at_risk", "no-target-is-provisional", "open-without-a-figure-yet-is-provisional",
         "final-without-a-figure-is-no_data", "an-absent-table-is-no_data-also-while-open"],
)
def test_status_rules(kwargs, status) -> None:
    assert status_of(**kwargs) == status


@pytest.mark.parametrize(
    ("rows", "code"),
    [
        ([("breach", "fail")], 1),
        ([("breach", "warn"), ("met", "fail")], 0),
        ([("at_risk", "fail"), ("provisional", "fail"), ("no_data", "fail")], 0),
    ],
    ids=["a-fail-breach-fails", "a-warn-breach-does-not", "at_risk-is-not-a-breach"],
)
def test_exit_code_rules(rows, code) -> None:
    # SPEC section 7: exit 1 only for a fail-severity breach; an at_risk month is a warning.
    assert exit_code([{"status": status, "severity": severity} for status, severity in rows]) == code


def two_year_agreement(tmp_path: Path):
    text = (SLA / "acme-2026-h1.yaml").read_text()
    text = text.replace("{from: 2026-01, to: 2026-06}", "{from: 2026-01, to: 2027-12}")
    (tmp_path / "two-years.yaml").write_text(text.replace("revision: 2026-h1", "revision: 2026-27"))
    return load_agreements(tmp_path / "two-years.yaml")


def test_judging_every_month_of_a_two_year_agreement(tmp_path, capsys) -> None:
    """The figure for the issue note; nothing is asserted about time (shared CI cores)."""
    from pipelines.checks.context import gx

    gx()  # the one-off import is not part of a judgement
    agreements = two_year_agreement(tmp_path)
    rows = scorecard_rows(agreements, open_month="2027-12", open_elapsed=10.0)
    row(rows, "2027-03", "volume:mql")["actual"] = 1.0
    con = write_scorecard(duckdb.connect(), rows)
    started = time.perf_counter()
    run = run_checks(con, agreements, None, "2027-12-11 00:00:00")
    seconds = time.perf_counter() - started
    assert len(run.results) == 24 * 17
    assert not_met(run.results) == {("2027-03", "volume:mql"): "breach"} | {
        ("2027-12", r.kpi): "provisional" for r in run.results if r.period == "2027-12"
    }
    with capsys.disabled():
        print(
            f"\n[checks] 24 months x 17 KPIs: {run.expectations_evaluated} expectations "
            f"in {len(run.validations)} validations, {seconds:.2f} s (GX import excluded)"
        )
