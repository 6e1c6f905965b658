"""The real job: a partition in an ephemeral instance, runs and backfills through the CLI."""

from __future__ import annotations

import fcntl
import json
import os
import logging
from datetime import UTC, datetime

import dagster as dg
import duckdb
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.defs.execute import run_job
from pipelines.settings import Settings
from tests.defs.dbt_copy import copied_dbt_project

pytestmark = pytest.mark.slow

AS_OF = "2026-08-20T12:00:00Z"


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def snapshot(settings: Settings) -> dict[str, list]:
    """The warehouse's judged and built state, without run ids and timestamps of the run."""
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return {
            "scorecard": con.execute("select * exclude (as_of) from marts.scorecard order by all").fetchall(),
            "judgements": con.execute(
                "select * exclude (run_id, build_id) from judgements.kpi_status order by all"
            ).fetchall(),
            "raw": con.execute("select * from raw.load_report order by all").fetchall(),
        }


def funnelpact_job(settings: Settings):
    from pipelines.defs.build import build_definitions

    return build_definitions(settings).resolve_job_def("funnelpact_job")


def run_march(job, instance):
    """March 2026 as of AS_OF, in the given instance; the run must succeed."""
    result = job.execute_in_process(instance=instance, partition_key="2026-03",
                                    tags={"funnelpact/as_of": "2026-08-20T12:00:00+00:00"})
    assert result.success
    return result


def test_one_partition_materialises_in_an_ephemeral_instance(settings: Settings) -> None:
    outcome = run_job(settings, "2026-03", "2026-03", datetime(2026, 8, 20, tzinfo=UTC), ephemeral=True)
    assert outcome.success, outcome.failure
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        months = con.execute("select distinct period from judgements.kpi_status").fetchall()
        statuses = dict(con.execute(
            "select kpi, status from judgements.kpi_status where period = '2026-03'"
        ).fetchall())
    assert months == [("2026-03",)]
    # March is closed as of August; its 90-day customer cohort matured on 2026-06-29.
    assert statuses["conversion:opportunity->customer"] in ("met", "breach")
    assert set(statuses.values()) <= {"met", "breach", "no_data"}


def test_a_range_run_builds_each_model_once_and_judges_each_month(settings: Settings) -> None:
    instance = dg.DagsterInstance.ephemeral()
    result = funnelpact_job(settings).execute_in_process(
        instance=instance, tags={"dagster/asset_partition_range_start": "2026-02",
                                 "dagster/asset_partition_range_end": "2026-04",
                                 "funnelpact/as_of": "2026-08-20T12:00:00+00:00"})
    assert result.success
    done = [e.event_specific_data.materialization for e in result.get_asset_materialization_events()]
    by_key: dict[str, list] = {}
    for m in done:
        by_key.setdefault(m.asset_key.to_user_string(), []).append(m.partition)
    assert by_key["marts/funnel_volumes"] == [None] and by_key["crm/contacts"] == [None]
    assert sorted(by_key["kpi_status"]) == sorted(by_key["alerts"]) == ["2026-02", "2026-03", "2026-04"]
    # A month of the range is judged: the UI shows it per month on the judgement assets.
    assert instance.get_materialized_partitions(dg.AssetKey("kpi_status")) == {"2026-02", "2026-03", "2026-04"}
    # Every check the UI lists on an asset is evaluated by the run: the dbt tests the daily
    # build leaves out (full scans) were listed as never evaluated, and the step logged that it
    # "did not yield or return expected outputs".
    evaluated = {e.asset_check_evaluation_data.asset_check_key for e in result.all_events
                 if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION}
    assert evaluated == set(result.job_def.asset_layer.asset_graph.asset_check_keys)
    assert not [e for e in result.all_events if "did not yield or return expected outputs" in (e.message or "")]
    # Each month's page in the UI shows that month's statuses, not only the run's over the range.
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        judged = con.execute("select period, status, count(*) from judgements.kpi_status group by all").fetchall()
    expected = {(period, status): n for period, status, n in judged}
    for m in result.asset_materializations_for_node("kpi_status"):
        table = m.metadata["by_month"].value
        assert [r.data["month"] for r in table.records] == ["2026-02", "2026-03", "2026-04"]
        assert {(r.data["month"], s): n for r in table.records for s, n in r.data.items() if s != "month" and n} == expected
    # So does the alerts' page: the run's first alerts are its breaches, each month its own.
    # It showed `new_alerts` of the whole range on every month.
    breaches = {period: n for (period, status), n in expected.items() if status == "breach"}
    for m in result.asset_materializations_for_node("alerts"):
        assert m.metadata["months"].value == "2026-02..2026-04"
        table = m.metadata["by_month"].value
        assert {r.data["month"]: r.data["breach"] for r in table.records} == breaches
        assert all(r.data["at_risk"] == r.data["recovered"] == 0 for r in table.records)


def test_a_run_launched_without_a_month_fails_saying_how_to_pick_the_months(settings: Settings) -> None:
    """The UI launchpad's *Launch run* with no partition picked. Dagster cannot run the
    judgement assets so (it fails the alerts step reading its input's partitions): the
    judgement says what to do instead of "Cannot access partition_key for a non-partitioned
    run". Only the judgement assets here: the load and build before them change nothing."""
    job = funnelpact_job(settings)
    judging = job.get_subset(asset_selection={dg.AssetKey("kpi_status"), dg.AssetKey("alerts")})
    result = judging.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert failure.step_key == "kpi_status"
    error = failure.step_failure_data.error
    assert "partition: the run has no month to judge" in (error.cause or error).message
    assert "Launch backfill" in (error.cause or error).message
    assert not settings.warehouse.exists(), "nothing was judged or written"


def test_judging_a_month_on_a_warehouse_no_run_has_built_says_so(settings: Settings) -> None:
    """*Materialize* on kpi_status alone (the asset page, `dagster asset materialize --select
    kpi_status`) before any run built the facts: DuckDB's "Catalog Error: Table with name
    marts.scorecard does not exist" was the step's error."""
    job = funnelpact_job(settings)
    judging = job.get_subset(asset_selection={dg.AssetKey("kpi_status")})
    result = judging.execute_in_process(instance=dg.DagsterInstance.ephemeral(), partition_key="2026-03",
                                        raise_on_error=False)
    [failure] = [e for e in result.all_events if e.is_step_failure]
    error = failure.step_failure_data.error
    assert (error.cause or error).cls_name == "InputError"
    assert "the warehouse has no marts.scorecard" in (error.cause or error).message


def test_a_judging_run_without_an_as_of_judges_as_of_the_facts_it_reads(settings: Settings) -> None:
    """A UI backfill: one run builds the facts, a later one judges them (no as-of tag)."""
    instance = dg.DagsterInstance.ephemeral()
    job = funnelpact_job(settings)
    building = run_march(job, instance)
    verdicts = {k for k in job.asset_layer.asset_graph.asset_check_keys if k.asset_key == dg.AssetKey("kpi_status")}
    judging = job.get_subset(asset_selection={dg.AssetKey("kpi_status")}, asset_check_selection=verdicts)
    result = judging.execute_in_process(instance=instance, partition_key="2026-03")
    assert result.success
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        as_of = con.execute("select distinct as_of from judgements.kpi_status where period = '2026-03'").fetchall()
        built = con.execute("select distinct build_id from judgements.kpi_status where period = '2026-03'").fetchall()
        last = con.execute("select run_id from judgements.last_build").fetchall()
    assert as_of == [(datetime(2026, 8, 20, 12, 0),)]
    # It judged the earlier run's build, which is still the warehouse's: the report has no stale banner.
    assert built == last == [(building.run_id,)] and building.run_id != result.run_id
    checks = {e.event_specific_data.check_name for e in result.all_events
              if e.event_type_value == "ASSET_CHECK_EVALUATION"}
    assert checks == {k.name for k in verdicts} >= {"volume_targets", "conversion_targets", "handoff_targets"}


def test_a_ui_run_records_the_instant_it_builds_as_of_in_its_tags(settings: Settings) -> None:
    """*Materialize* of a month in the UI: no as-of tag, so the build is as of its start. The
    run's tags said nothing of it, and a re-execution (which copies its parent's tags) built
    as of its own start: *From asset failure* rebuilt the models the failure left as of
    another instant than the models kept from the first attempt."""
    from pipelines.defs.partitions import AS_OF_TAG

    instance = dg.DagsterInstance.ephemeral()
    result = funnelpact_job(settings).execute_in_process(instance=instance, partition_key="2026-03")
    assert result.success
    tags = instance.get_run_by_id(result.run_id).tags
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        [(built,)] = con.execute("select distinct as_of from marts.scorecard").fetchall()
    assert AS_OF_TAG in tags, sorted(tags)
    assert datetime.fromisoformat(tags[AS_OF_TAG]) == built.replace(tzinfo=UTC)


STAGE_ENTRIES, VOLUMES = dg.AssetKey(["intermediate", "int_stage_entries"]), dg.AssetKey(["marts", "funnel_volumes"])


def built_rows(settings: Settings) -> dict[str, list]:
    """The rows of the two models the tests below materialise alone."""
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return {table: con.execute(f"select * from {table} order by all").fetchall()
                for table in ("intermediate.int_stage_entries", "marts.funnel_volumes")}


def test_models_materialised_alone_are_built_as_of_the_instant_of_the_warehouse(settings: Settings) -> None:
    """*Materialize selected* on a few dbt models in the UI: no as-of tag and no load. They
    were built as of now, beside the other models built as of the last run's instant: the
    marts of one warehouse disagreed."""
    from pipelines.defs.dbt import DATA_SOURCES
    from pipelines.defs.instance import prepare_dagster_home
    from pipelines.defs.partitions import AS_OF_TAG

    prepare_dagster_home(settings.dagster_home)
    job = funnelpact_job(settings)
    alone = job.get_subset(asset_selection={STAGE_ENTRIES, VOLUMES})
    with dg.DagsterInstance.get() as instance:      # DAGSTER_HOME: the settings fixture's temp dir
        run_march(job, instance)                    # as of 2026-08-20 12:00
        as_of_a = built_rows(settings)
        result = alone.execute_in_process(instance=instance)
        assert result.success
        tags = instance.get_run_by_id(result.run_id).tags
        logged = [e.user_message for e in instance.all_logs(result.run_id) if e.step_key == "funnel_facts"]
        rebuilt = built_rows(settings)
        # With the load, they are built as of now, as before: the data holds facts after
        # 2026-08-20, so the rows above would differ, had they been built as of now.
        raw = {key for key in job.asset_layer.asset_graph.get_all_asset_keys() if key.path[0] in DATA_SOURCES}
        loading = job.get_subset(asset_selection={*raw, STAGE_ENTRIES, VOLUMES}).execute_in_process(instance=instance)
        assert loading.success
        now = datetime.fromisoformat(instance.get_run_by_id(loading.run_id).tags[AS_OF_TAG])
    assert rebuilt == as_of_a
    assert now > datetime(2026, 8, 21, tzinfo=UTC) and built_rows(settings) != as_of_a
    assert tags[AS_OF_TAG] == "2026-08-20T12:00:00+00:00"
    assert any(m.startswith("building as of 2026-08-20 12:00:00 UTC, the instant the warehouse's models were last "
                            "built as of: this run does not load the data") for m in logged), logged
    done = [e.event_specific_data.materialization for e in result.get_asset_materialization_events()]
    assert {m.asset_key for m in done} == {STAGE_ENTRIES, VOLUMES}
    for m in done:
        assert m.metadata["as_of"].value == "2026-08-20 12:00:00 UTC"
        assert m.metadata["as_of_from"].value.startswith("the warehouse's last build: this run does not load the data")


def test_models_materialised_alone_in_a_warehouse_no_run_has_built_fail_saying_to_build_everything(
        settings: Settings) -> None:
    """No build, no instant to build them as of: as of now, they would be the first of a
    warehouse of two instants once the rest is built."""
    alone = funnelpact_job(settings).get_subset(asset_selection={STAGE_ENTRIES, VOLUMES})
    result = alone.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    [failure] = [e for e in result.all_events if e.is_step_failure]
    error = failure.step_failure_data.error.cause or failure.step_failure_data.error
    assert error.cls_name == "InputError"
    assert f"InputError: {settings.warehouse}: no run has built the dbt models of this warehouse yet" in error.message
    assert "materialise everything first" in error.message
    assert not result.get_asset_materialization_events()


def test_run_prints_the_scorecard_json_of_spec_section_7(settings: Settings) -> None:
    result = invoke("run", "--as-of", AS_OF, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    payload = json.loads(result.stdout)
    assert payload["as_of"] == "2026-08-20T12:00:00+00:00"
    # August is open; May..July still mature (90-day cohorts); earlier months are final.
    assert payload["months"] == ["2026-05", "2026-06", "2026-07", "2026-08"]
    first = payload["results"][0]
    assert {"period", "kpi", "owner", "target", "actual", "status", "severity", "agreement", "revision"} <= set(first)
    assert {r["revision"] for r in payload["results"] if r["period"] == "2026-06"} == {"2026-h1"}
    assert {r["revision"] for r in payload["results"] if r["period"] == "2026-07"} == {"2026-h2"}
    # The open month is never a breach: it is provisional or at risk.
    assert not [r for r in payload["results"] if r["period"] == "2026-08" and r["status"] == "breach"]
    dq = payload["data_quality"]
    assert dq["quarantined_rows"] == sum(dq["by_reason"].values()) > 0
    fail_breach = any(r["status"] == "breach" and r["severity"] == "fail" for r in payload["results"])
    assert result.exit_code == (1 if fail_breach else 0)
    assert payload["warnings"] == []  # every generated deal is in the agreement's USD


def test_a_won_deal_in_another_currency_is_warned_on_stderr_and_in_the_json(
        settings: Settings, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    data = tmp_path / "eur-data"
    shutil.copytree(settings.data_dir, data)
    with open(data / "deals.csv", "a") as deals:
        deals.write("EUR-1,,2026-06-01T00:00:00Z,2026-06-15T12:00:00Z,won,5000,EUR\n")
    monkeypatch.setenv("FUNNELPACT_DATA_DIR", str(data))
    result = invoke("run", "--as-of", AS_OF, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    line = ("revenue 2026-06 (acme 2026-h1): 1 won deal in another currency than USD (EUR 1) is summed as USD; "
            "convert the amounts to USD in the data (docs/metrics.md)")
    payload = json.loads(result.stdout)
    assert payload["warnings"] == [line]
    assert f"warning {line}" in " ".join(result.stderr.split())
    # A run of the schedule or the UI has no terminal: the judging step logs it in the run.
    import logging

    with dg.DagsterInstance.get() as instance:
        logged = [e.user_message for e in instance.all_logs(payload["run_id"])
                  if e.level == logging.WARNING and e.step_key == "kpi_status"]
    assert line in logged
    # The monthly review pack says so in its data-quality section.
    report = invoke("report", "--month", "2026-06", "--out", str(tmp_path / "review.html"), "--as-of", AS_OF)
    assert report.exit_code == 0, report.output
    page = (tmp_path / "review.html").read_text()
    section = page[page.index('id="data-quality"'):]
    assert f'<p class="banner" data-warning="currency">{line}</p>' in section


def test_a_run_of_one_month_names_that_month_once(settings: Settings) -> None:
    """`run --from M`, which docs/report.md says to run, printed `judging 2026-03..2026-03`."""
    result = invoke("run", "--from", "2026-03", "--as-of", AS_OF)
    assert result.exit_code in (0, 1), result.output
    assert "funnelpact: judging 2026-03 as of 2026-08-20 12:00 UTC (data " in result.stderr, result.stderr


def test_a_json_run_says_on_stderr_which_asked_months_it_left_out(settings: Settings) -> None:
    result = invoke("run", "--from", "2026-08", "--to", "2026-09", "--as-of", AS_OF, "--format", "json")
    payload = json.loads(result.stdout)
    assert payload["months"] == ["2026-08"]
    assert "funnelpact: not judged: 2026-09 (not started by the as-of instant)" in result.stderr
    # SPEC section 7 through the CLI: an open month at risk on fail-severity KPIs is a
    # warning, not a breach, so the run exits 0 (the only other run tests accept 0 or 1).
    assert any(r["status"] == "at_risk" and r["severity"] == "fail" for r in payload["results"]), \
        "no fail-severity KPI at risk: exit 0 would test nothing"
    assert result.exit_code == 0, result.output


def test_a_default_run_in_a_gap_between_revisions_says_the_current_month_is_not_judged(settings: Settings) -> None:
    # H2 now starts in September. As of August 20 the default run judges H1's months whose
    # cohorts still mature (May, June) and said nothing of August, today's month.
    h2 = settings.sla_dir / "acme-2026-h2.yaml"
    h2.write_text(h2.read_text().replace("effective: {from: 2026-07, to: 2026-12}", "effective: {from: 2026-09, to: 2026-12}")
                  .replace("seasonality: {2026-08: 0.7, ", "seasonality: {"))
    result = invoke("run", "--as-of", AS_OF, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    assert json.loads(result.stdout)["months"] == ["2026-05", "2026-06"]
    assert "funnelpact: not judged: 2026-08 (no agreement in force)" in result.stderr


def test_a_backfill_is_one_run_and_leaves_the_warehouse_identical_when_repeated(settings: Settings) -> None:
    first = invoke("backfill", "--from", "2026-01", "--to", "2026-04", "--as-of", AS_OF, "--format", "json")
    assert first.exit_code in (0, 1), first.output
    before = snapshot(settings)
    second = invoke("backfill", "--from", "2026-01", "--to", "2026-04", "--as-of", AS_OF, "--format", "json")
    assert second.exit_code == first.exit_code
    assert snapshot(settings) == before
    assert {row[2] for row in before["judgements"]} == {"2026-01", "2026-02", "2026-03", "2026-04"}
    # The CLI runs live in the persistent Dagster home, one run per backfill, both months' range.
    instance = dg.DagsterInstance.from_config(str(settings.dagster_home))
    runs = instance.get_runs()
    assert len(runs) == 2
    assert {(r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"]) for r in runs} == {
        ("2026-01", "2026-04")
    }
    assert json.loads(first.stdout)["run_id"] in {r.run_id for r in runs}
    # The GX verdicts are asset checks on kpi_status, failing exactly when a family has a breach.
    breached = {r["kpi"].split(":")[0] for r in json.loads(first.stdout)["results"] if r["status"] == "breach"}
    for family in ("volume", "conversion", "handoff", "revenue"):
        key = dg.AssetCheckKey(dg.AssetKey("kpi_status"), f"{family}_targets")
        [record] = instance.event_log_storage.get_asset_check_execution_history(key, limit=1)
        evaluation = record.event.dagster_event.event_specific_data
        assert evaluation.passed == (family not in breached), family


def test_a_missing_data_directory_is_bad_input(settings: Settings) -> None:
    result = invoke("run", "--data", "no-such-dir", "--as-of", AS_OF)
    assert result.exit_code == 2
    assert "no-such-dir" in result.output and "data directory not found" in result.output


def test_a_mistyped_data_dir_variable_is_named_in_the_error(settings: Settings, tmp_path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A crontab's FUNNELPACT_DATA_DIR with a typo: the error named only the path, not the
    setting it came from, as the agreements' folder does ($FUNNELPACT_SLA_DIR)."""
    monkeypatch.setenv("FUNNELPACT_DATA_DIR", str(tmp_path / "exprot"))
    for command in (["run"], ["backfill", "--from", "2026-03", "--to", "2026-03"]):
        result = invoke(*command, "--as-of", AS_OF)
        said = " ".join(result.output.split())
        assert result.exit_code == 2, result.output
        assert f"{tmp_path / 'exprot'}: data directory not found (the folder $FUNNELPACT_DATA_DIR names" in said, said
    result = invoke("run", "--data", str(tmp_path / "given"), "--as-of", AS_OF)
    assert result.exit_code == 2 and "$FUNNELPACT_DATA_DIR" not in result.output, result.output
    monkeypatch.delenv("FUNNELPACT_DATA_DIR")
    monkeypatch.chdir(tmp_path)
    result = invoke("run", "--as-of", AS_OF)
    said = " ".join(result.output.split())
    assert result.exit_code == 2 and "data/ in the current directory" in said and "--data DIR" in said, said


def test_a_load_out_of_the_memory_its_limit_allows_names_the_limit_not_the_data(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Too small a FUNNELPACT_DUCKDB_MEMORY_LIMIT failed the load with "cannot read the file;
    expected UTF-8 CSV with a header row" for every table (exit 2): sound files blamed."""
    monkeypatch.setenv("FUNNELPACT_DUCKDB_MEMORY_LIMIT", "1MB")
    result = invoke("run", "--from", "2026-03", "--to", "2026-03", "--as-of", AS_OF)
    said = " ".join(result.output.split())
    assert result.exit_code == 3, result.output  # docs/operations.md: a failed run, not bad input
    assert "raw_crm: Out of Memory Error" in said, said
    assert "FUNNELPACT_DUCKDB_MEMORY_LIMIT is 1MB: raise it" in said, said
    assert "cannot read the file" not in said and "this is a bug" not in said, said


def test_a_data_directory_without_tables_gives_one_error_line_per_problem(settings: Settings, tmp_path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = invoke("run", "--data", str(empty), "--as-of", AS_OF)
    assert result.exit_code == 2
    assert "STEP_FAILURE" not in result.output and "Traceback" not in result.output
    lines = result.output.splitlines()
    errors = lines[next(i for i, line in enumerate(lines) if line.startswith("error")):]
    assert errors == [
        (f"error {empty}: required table 'contacts' not found; expected "
         "contacts.csv, contacts.parquet or a folder contacts/ of Parquet files"),
        (f"error {empty}: required table 'lifecycle_events' not found; expected lifecycle_events.csv, "
         "lifecycle_events.parquet or a folder lifecycle_events/ of Parquet files"),
    ]
    # Dagster's stack trace goes to the run's log file, not to the terminal.
    log = (settings.home / "logs" / "last-run.log").read_text()
    assert "Traceback" in log or 'File "' in log
    assert "raise InputError" in log


def test_bad_input_found_before_the_job_starts_keeps_the_previous_runs_log(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    assert invoke("run", "--from", "2026-03", "--to", "2026-03", "--as-of", AS_OF).exit_code in (0, 1)
    log = settings.home / "logs" / "last-run.log"
    before = log.read_text()
    assert "Running with dbt" in before
    monkeypatch.setenv("FUNNELPACT_SCHEDULE_CRON", "every day")
    result = invoke("run", "--from", "2026-03", "--to", "2026-03", "--as-of", AS_OF)
    assert result.exit_code == 2 and "FUNNELPACT_SCHEDULE_CRON" in result.output
    assert log.read_text() == before


def test_the_run_s_log_is_utf8_and_its_table_legible_whatever_the_locale(settings: Settings) -> None:
    """Under an ASCII locale (LANG=C without Python's coercion to UTF-8; Windows' cp1252 has
    no CJK), log lines with other characters ("alerts: 10 new alert(s) — email: …") were
    dropped from the run's log with a '--- Logging error ---' each on stderr, and the
    scorecard's table, with its em dashes, ended the finished run with exit 3."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}
    done = subprocess.run([sys.executable, "-c", "from pipelines.cli import main; main()", "run", "--from", "2026-03",
                           "--to", "2026-03", "--as-of", AS_OF],
                          env=env, capture_output=True, encoding="ascii", timeout=600)
    assert done.returncode in (0, 1), done.stderr
    assert "Logging error" not in done.stderr, done.stderr
    assert "volume:mql" in done.stdout and "\\u2014" in done.stdout, done.stdout
    log = (settings.home / "logs" / "last-run.log").read_text(encoding="utf-8")
    assert "new alert(s) — " in log


def test_a_parquet_part_named_in_latin1_is_refused_naming_it(settings: Settings, tmp_path) -> None:
    """A Parquet part named in Latin-1 is refused in the load step, naming it escaped and
    saying what is wrong: the table was refused with DuckDB's "Python Conversion Failure:
    cannot encode str as UTF-8"."""
    import os
    import shutil

    data = tmp_path / "latin1-part"
    shutil.copytree(settings.data_dir, data)
    (data / "contacts").mkdir()
    duckdb.sql(f"select * from read_csv('{data / 'contacts.csv'}', all_varchar = true)").write_parquet(
        str(data / "contacts" / "part.parquet"))
    (data / "contacts.csv").unlink()
    os.rename(data / "contacts" / "part.parquet", data / "contacts" / os.fsdecode(b"part-\xe9.parquet"))
    result = invoke("run", "--data", str(data), "--from", "2026-03", "--to", "2026-03", "--as-of", AS_OF)
    assert result.exit_code == 2, result.output
    assert "the path is not UTF-8 text" in result.output
    assert "part-\\udce9.parquet" in (settings.home / "logs" / "last-run.log").read_text(encoding="utf-8")

    # A data directory named so: each table's refusal named the path with its surrogate, which
    # the UTF-8 log could not hold, and the run ended with exit 3 ("this is a bug").
    folder = tmp_path / os.fsdecode(b"d\xe9")
    shutil.copytree(settings.data_dir, folder)
    result = invoke("run", "--data", str(folder), "--from", "2026-03", "--to", "2026-03", "--as-of", AS_OF)
    assert result.exit_code == 2, result.output
    assert f"{str(folder.resolve())!r}: the path is not UTF-8 text" in result.output, result.output


def test_a_locked_warehouse_says_so_and_exits_2(settings: Settings) -> None:
    lock = settings.warehouse.with_name(settings.warehouse.name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        result = invoke("run", "--as-of", AS_OF)
    assert result.exit_code == 2
    assert "another funnelpact run is using this warehouse" in result.output


@pytest.mark.parametrize("variable, where, message", [
    ("FUNNELPACT_DUCKDB_PATH", "afile/warehouse.duckdb", "cannot write {tmp}/afile (it is a file, not a folder)"),
    ("FUNNELPACT_DUCKDB_PATH", "afolder", "is a folder: expected the warehouse's DuckDB file"),
    ("FUNNELPACT_DUCKDB_PATH", "afile", "is not a DuckDB database file"),  # found before the run starts
    # DuckDB opens an existing data file as an in-memory view of it: the load went to memory,
    # and dbt failed the run on a warehouse without `raw` (exit 3).
    ("FUNNELPACT_DUCKDB_PATH", "export.csv", "is not a DuckDB database file"),
    ("FUNNELPACT_DUCKDB_PATH", "export.json", "is not a DuckDB database file"),
    ("FUNNELPACT_HOME", "afile/home", "cannot write {tmp}/afile/home/logs ({tmp}/afile is a file, not a folder)"),
    ("DAGSTER_HOME", "afile/dagster", "cannot write {tmp}/afile/dagster ({tmp}/afile is a file, not a folder)"),
])
def test_a_state_path_a_run_cannot_use_is_bad_input_naming_its_setting(
    settings: Settings, tmp_path, monkeypatch: pytest.MonkeyPatch, variable: str, where: str, message: str
) -> None:
    """A warehouse, home or Dagster home through a file, or a warehouse that is a folder or
    not a DuckDB file: exit 2 naming the setting, not a traceback with exit 1 (the code of a
    breach) nor exit 3."""
    files = {"afile": "not a warehouse", "export.csv": "deal_id,amount\nD1,5\n", "export.json": '[{"deal_id": "D1"}]'}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "afolder").mkdir()
    monkeypatch.setenv(variable, str(tmp_path / where))
    result = invoke("run", "--as-of", AS_OF)
    assert result.exit_code == 2, result.output
    [error] = [line for line in result.output.splitlines() if line.startswith("error")]
    assert f" {variable}: {message.format(tmp=tmp_path)}" in error, error
    assert "Traceback" not in result.output
    assert "failure of" not in result.output, "refused before the run: nobody is told"
    assert {name: (tmp_path / name).read_text() for name in files} == files, "the files are left as they were"


def test_a_warehouse_another_process_writes_to_is_bad_input_found_in_the_step(settings: Settings) -> None:
    """Not funnelpact's lock file: a writer outside funnelpact (a DuckDB shell, say) holds
    DuckDB's own lock, which the load step meets. Bad input (exit 2), named by its file."""
    import subprocess
    import sys

    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
         "time.sleep(300)", str(settings.warehouse)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        outcome = run_job(settings, "2026-03", "2026-03", datetime(2026, 8, 20, tzinfo=UTC), ephemeral=True)
    finally:
        holder.kill()
        holder.wait()
    assert not outcome.success and outcome.kind == "bad_input", outcome
    # It named "another funnelpact run", sending the reader to look for a run that was not there.
    assert outcome.failure.startswith(f"{settings.warehouse}: the warehouse is in use by another process"), \
        outcome.failure
    assert "funnelpact run," in outcome.failure and "DuckDB shell" in outcome.failure


READ_DBT_PROJECT = """
from pipelines.defs.dbt import dbt_project
from pipelines.errors import InputError
try:
    dbt_project()
except InputError as exc:
    print("InputError", *exc.problems, sep="\\n")
"""


@pytest.mark.parametrize("read_only", [".", "logs"])
def test_a_dbt_project_funnelpact_may_not_write_is_bad_input_naming_its_setting(
    tmp_path, monkeypatch: pytest.MonkeyPatch, without_root_override, read_only: str
) -> None:
    """dbt writes target/ and logs/ in the project (docs/operations.md): a read-only one failed
    the run with "the dbt project does not parse: … Permission denied" (exit 3), no setting named."""
    project = copied_dbt_project(tmp_path, monkeypatch)
    (project / "logs").mkdir()
    for folder in (project / read_only, *(project / read_only).rglob("*")):
        folder.chmod(folder.stat().st_mode & ~0o222)
    done = without_root_override(READ_DBT_PROJECT)
    for folder in (project / read_only, *(project / read_only).rglob("*")):
        folder.chmod(folder.stat().st_mode | 0o200)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[:1] == ["InputError"], done.stdout
    unwritable = project / ("target" if read_only == "." else read_only)
    assert lines[1].startswith(f"{project} FUNNELPACT_DBT_PROJECT_DIR: cannot write {unwritable} (Permission denied)"), \
        lines[1]


def test_a_dbt_project_that_does_not_parse_fails_with_the_model_named(
    settings: Settings, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = copied_dbt_project(tmp_path, monkeypatch)
    (project / "models" / "marts" / "broken_model.sql").write_text("select * from {{ ref('no_such_model') }}\n")
    result = invoke("run", "--as-of", AS_OF)
    assert result.exit_code == 3, "a failed pipeline, not a missed target (1)"
    assert "does not parse" in result.output and "broken_model" in result.output
    assert "failure of" not in result.output, "no run started: none is told, nor would the code location load"


def test_dbt_runs_in_the_step_and_reports_every_model_and_data_test(settings: Settings) -> None:
    from pipelines.defs.dbt import dbt_project, target_dir

    project = dbt_project(settings.warehouse)
    parsed_at = project.manifest_path.stat().st_mtime_ns
    job, instance = funnelpact_job(settings), dg.DagsterInstance.ephemeral()
    result = run_march(job, instance)
    manifest = json.loads(project.manifest_path.read_text())
    models = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    materialized = {m.asset_key.path[-1] for m in result.asset_materializations_for_node("funnel_facts")}
    assert models <= materialized
    evaluations = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    dbt_checks = [e for e in evaluations if e.check_name.startswith(("not_null", "unique", "accepted_values", "relationships"))]
    assert len(dbt_checks) > 20 and all(e.passed for e in dbt_checks)
    # dbt's run results are this build's; the manifest is the parse's, not rewritten by the build.
    run_results = json.loads((target_dir(project) / "run_results.json").read_text())
    built = {r["unique_id"].split(".")[-1] for r in run_results["results"] if r["unique_id"].startswith("model.")}
    assert built == models and all(r["status"] in ("success", "pass") for r in run_results["results"])
    assert project.manifest_path.stat().st_mtime_ns == parsed_at


def test_a_failing_dbt_data_test_fails_the_run_and_names_the_test(
    settings: Settings, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = copied_dbt_project(tmp_path, monkeypatch)
    (project / "tests").mkdir(exist_ok=True)
    (project / "tests" / "no_months_at_all.sql").write_text("select * from {{ ref('funnel_volumes') }}\n")
    result = invoke("run", "--as-of", AS_OF)
    assert result.exit_code == 3, "a failed pipeline, not a missed target (1)"
    assert "funnel_facts" in result.output and "no_months_at_all" in result.output
    assert "STEP_FAILURE" not in result.output and "last-run.log" in result.output
    assert "no_months_at_all" in (settings.home / "logs" / "last-run.log").read_text()
    run_results = json.loads((project / "target" / "run_results.json").read_text())
    statuses = {r["unique_id"].split(".")[-1]: r["status"] for r in run_results["results"]}
    assert statuses["no_months_at_all"] == "fail"


def test_materialising_one_dbt_model_builds_only_it_and_its_tests(settings: Settings) -> None:
    """What the UI does for a subset: dagster-dbt's selection reaches the in-process build."""
    job, instance = funnelpact_job(settings), dg.DagsterInstance.ephemeral()
    run_march(job, instance)
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        before = con.execute("select count(*) from marts.funnel_volumes").fetchone()[0]
    target = dg.AssetKey(["marts", "funnel_volumes"])
    result = run_march(job.get_subset(asset_selection={target}), instance)
    materialized = {e.event_specific_data.materialization.asset_key
                    for e in result.get_asset_materialization_events()}
    assert materialized == {target}
    checks = {e.event_specific_data.asset_key for e in result.all_events
              if e.event_type_value == "ASSET_CHECK_EVALUATION"}
    assert checks <= {target}
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from marts.funnel_volumes").fetchone()[0] == before


def test_a_one_partition_run_checks_only_its_month(settings: Settings) -> None:
    """A month materialised alone (the UI) gets the checks of that month, not of every stored one."""
    february = run_job(settings, "2026-02", "2026-02", datetime(2026, 8, 20, 12, tzinfo=UTC), ephemeral=True)
    assert february.success, february.failure
    result = run_march(funnelpact_job(settings), dg.DagsterInstance.ephemeral())
    [volume] = [e.event_specific_data for e in result.all_events
                if e.event_type_value == "ASSET_CHECK_EVALUATION"
                and e.event_specific_data.check_name == "volume_targets"]
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        march, both = con.execute(
            "select count(*) filter (where period = '2026-03'), count(*) from judgements.kpi_status "
            "where kpi like 'volume:%'").fetchone()
    assert march < both
    assert volume.metadata["judged"].value == march


def test_a_run_launched_by_dagster_runs_its_steps_one_at_a_time(settings: Settings) -> None:
    """What the daemon does for the schedule, the UI and backfills: a run of the code
    location in its own process, with the job's executor. Dagster's default executor ran
    `raw_crm` and `agreement_tables` in two processes at once, and the second to open the
    warehouse failed on DuckDB's lock."""
    import os
    import subprocess
    import sys

    from pipelines.defs.build import build_definitions
    from pipelines.defs.instance import prepare_dagster_home

    prepare_dagster_home(settings.dagster_home)
    defs = build_definitions(settings)
    for job in (defs.resolve_job_def("funnelpact_job"), defs.resolve_implicit_global_asset_job_def()):
        assert job.executor_def is dg.in_process_executor, job.name
    tags = {"dagster/asset_partition_range_start": "2026-03", "dagster/asset_partition_range_end": "2026-03",
            "funnelpact/as_of": "2026-08-20T12:00:00+00:00"}
    dagster = [sys.executable, "-m", "dagster"]
    done = subprocess.run([*dagster, "job", "execute", "-m", "pipelines.definitions", "-j", "funnelpact_job",
                           "--tags", json.dumps(tags)],
                          env={**os.environ, "DAGSTER_HOME": str(settings.dagster_home)}, capture_output=True,
                          text=True, timeout=600, cwd=settings.home.parent)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "WarehouseLocked" not in done.stdout + done.stderr
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        assert con.execute("select distinct period from judgements.kpi_status").fetchall() == [("2026-03",)]
    with dg.DagsterInstance.get() as instance:      # DAGSTER_HOME: the settings fixture
        (run,) = instance.get_runs()
        spans: dict[str, list[float]] = {}
        for record in instance.all_logs(run.run_id):
            if record.is_dagster_event and record.dagster_event.event_type_value in (
                    "STEP_START", "STEP_SUCCESS", "STEP_FAILURE"):
                spans.setdefault(record.step_key, []).append(record.timestamp)
    steps = sorted((times[0], times[-1], step) for step, times in spans.items())
    assert len(steps) >= 4
    for (_, end, step), (start, _, following) in zip(steps, steps[1:]):
        assert end <= start, f"{step} and {following} ran at the same time"


def test_a_ui_range_across_a_gap_between_revisions_judges_the_months_in_force(settings: Settings) -> None:
    # H2 now starts in September: July and August have no revision in force.
    h2 = settings.sla_dir / "acme-2026-h2.yaml"
    h2.write_text(h2.read_text().replace("effective: {from: 2026-07, to: 2026-12}", "effective: {from: 2026-09, to: 2026-12}")
                  .replace("seasonality: {2026-08: 0.7, ", "seasonality: {"))
    result = funnelpact_job(settings).execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        tags={"dagster/asset_partition_range_start": "2026-06", "dagster/asset_partition_range_end": "2026-09",
              "funnelpact/as_of": "2026-10-20T12:00:00+00:00"})
    assert result.success
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        judged = con.execute("select distinct period from judgements.kpi_status order by 1").fetchall()
    assert judged == [("2026-06",), ("2026-09",)]
    # One materialisation per partition of the range, each with the run's metadata.
    notes = {m.metadata["not_judged"].value for m in result.asset_materializations_for_node("kpi_status")}
    assert notes == {"2026-07..2026-08"}


def test_a_ui_run_of_gap_months_only_judges_nothing_and_still_runs_the_alerts(settings: Settings) -> None:
    h2 = settings.sla_dir / "acme-2026-h2.yaml"
    h2.write_text(h2.read_text().replace("effective: {from: 2026-07, to: 2026-12}", "effective: {from: 2026-09, to: 2026-12}")
                  .replace("seasonality: {2026-08: 0.7, ", "seasonality: {"))
    instance = dg.DagsterInstance.ephemeral()
    job = funnelpact_job(settings)
    assert job.execute_in_process(instance=instance, tags={
        "dagster/asset_partition_range_start": "2026-06", "dagster/asset_partition_range_end": "2026-06",
        "funnelpact/as_of": "2026-10-20T12:00:00+00:00"}).success
    result = job.execute_in_process(instance=instance, tags={
        "dagster/asset_partition_range_start": "2026-07", "dagster/asset_partition_range_end": "2026-08",
        "funnelpact/as_of": "2026-10-20T12:00:00+00:00"}, raise_on_error=False)
    assert result.success, [e.message for e in result.all_events if e.is_step_failure]
    notes = {m.metadata["not_judged"].value for m in result.asset_materializations_for_node("kpi_status")}
    assert notes == {"2026-07..2026-08"}
    assert result.asset_materializations_for_node("alerts"), "the alerts step ran (pending deliveries are retried)"
    checks = [c for c in result.get_asset_check_evaluations() if c.asset_key == dg.AssetKey("kpi_status")]
    assert checks and all(c.passed and c.metadata["judged"].value == 0 for c in checks)
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        judged = con.execute("select distinct period from judgements.kpi_status order by 1").fetchall()
    assert judged == [("2026-06",)], "June's judgements are left as they were"


def test_a_ui_run_of_a_month_not_begun_by_the_facts_it_judges_leaves_its_judgements_and_says_so(
        settings: Settings) -> None:
    """September judged as of October; then facts built as of August (`funnelpact run
    --as-of` in the past), and September materialised in the UI, which judges as of those
    facts. September had not begun then: it was judged to nothing, its judgements deleted,
    under a green materialisation with no word of it."""
    instance = dg.DagsterInstance.ephemeral()
    job = funnelpact_job(settings)
    assert job.execute_in_process(instance=instance, partition_key="2026-09",
                                  tags={"funnelpact/as_of": "2026-10-20T12:00:00+00:00"}).success
    run_march(job, instance)   # the facts as of 2026-08-20
    judging = job.get_subset(asset_selection={dg.AssetKey("kpi_status"), dg.AssetKey("alerts")})
    result = judging.execute_in_process(instance=instance, partition_key="2026-09")
    assert result.success
    [done] = result.asset_materializations_for_node("kpi_status")
    assert (done.metadata["not_judged"].value, done.metadata["as_of"].value) == ("2026-09", "2026-08-20 12:00 UTC")
    warned = [r.user_message for r in instance.all_logs(result.run_id) if r.level >= logging.WARNING]
    assert "not judged: 2026-09 (not started by the as-of instant)" in warned
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        kept = con.execute("select distinct as_of from judgements.kpi_status where period = '2026-09'").fetchall()
    assert kept == [(datetime(2026, 10, 20, 12, 0),)], "September's judgements as of October are left as they were"


def test_alerts_materialised_alone_for_a_month_nobody_judged_says_so(settings: Settings) -> None:
    instance = dg.DagsterInstance.ephemeral()
    job = funnelpact_job(settings)
    run_march(job, instance)
    alerting = job.get_subset(asset_selection={dg.AssetKey("alerts")})
    result = alerting.execute_in_process(instance=instance, partition_key="2026-05")
    assert result.success
    [done] = result.asset_materializations_for_node("alerts")
    assert (done.metadata["not_judged"].value, done.metadata["new_alerts"].value) == ("2026-05", 0)
    warned = [r.user_message for r in instance.all_logs(result.run_id) if r.level >= logging.WARNING]
    assert ("no judgement of 2026-05 in the warehouse: nothing to announce for it "
            "(materialise kpi_status for the month first)") in warned


# A data test that takes seconds: the interrupt lands while its thread is inside DuckDB,
# where an interpreter shutting down around it aborted the process (exit 134).
SLOW_DATA_TEST = "select 1 from range(1) where (select count(*) from range(1500000000) t(i) where i % 7 = 1) < 0\n"


@pytest.mark.parametrize("moment", [" START sql ", " START test ", " START test slow_data_test "],
                         ids=["during a model", "during a data test", "inside a slow data test's query"])
def test_ctrl_c_during_the_dbt_build_exits_130_and_the_next_run_is_whole(
        settings: Settings, moment: str, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Exit 1 is a missed target (SPEC §7): an interrupted run must not look like one. dbt's
    threads are stopped before the run ends: left inside DuckDB at exit, they aborted the
    process (exit 134), and a data test's thread wrote to the closed log."""
    import signal
    import subprocess
    import sys
    import time

    if "slow_data_test" in moment:
        project = copied_dbt_project(tmp_path, monkeypatch)
        (project / "tests").mkdir(exist_ok=True)
        (project / "tests" / "slow_data_test.sql").write_text(SLOW_DATA_TEST)
    log = settings.home / "logs" / "last-run.log"
    # In a session of its own, as a shell runs a command in a process group of its own.
    run = subprocess.Popen([sys.executable, "-c", "from pipelines.cli import main; main()", "run", "--as-of", AS_OF,
                            "--format", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           cwd=settings.home.parent, start_new_session=True)
    deadline = time.monotonic() + 300
    while not (log.is_file() and moment in log.read_text(errors="replace")):
        assert run.poll() is None and time.monotonic() < deadline, run.communicate()
        time.sleep(0.02)
    # To the whole group, as the terminal's Ctrl-C: Dagster's processes that mirror the run's
    # captured output printed a KeyboardInterrupt traceback each.
    os.killpg(run.pid, signal.SIGINT)
    out, err = run.communicate(timeout=300)
    assert run.returncode == 130, err[-3000:]
    assert "funnelpact: interrupted" in err
    assert "failure of run" not in err, "an interrupted run is told to no channel: whoever stopped it knows"
    for noise in ("terminate called", "Traceback", "Logging error", "leaked semaphore"):
        assert noise not in err, err[-3000:]
    assert out == "", "no scorecard for a run that did not finish"
    if "slow_data_test" in moment:
        (project / "tests" / "slow_data_test.sql").unlink()  # its seconds again would prove nothing
    assert invoke("run", "--as-of", AS_OF).exit_code in (0, 1), "the lock is free and the next run completes"


def test_ctrl_c_while_alerts_go_out_exits_130_in_one_line_and_the_run_started_right_after_sends_them(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Interrupted while Slack receives the digest: Python's resource tracker printed "There
    appear to be 2 leaked semaphore objects" under "funnelpact: interrupted" (tqdm's idle
    monitor thread, started by GX in the judgement, made the CLI leave by os._exit), and the
    run kept its claim on the alerts for 15 minutes: the run started again at once sent none."""
    import signal
    import subprocess
    import sys
    import time

    from tests.alerts.loopback import HttpRecorder

    slack = HttpRecorder()
    slack.status, slack.answer = 500, lambda handler: time.sleep(5) or "slow"  # the answer the run waits for
    monkeypatch.setenv("FUNNELPACT_SLACK_WEBHOOK", slack.url())
    try:
        run = subprocess.Popen([sys.executable, "-c", "from pipelines.cli import main; main()", "run", "--as-of",
                                AS_OF], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=settings.home.parent, start_new_session=True)
        deadline = time.monotonic() + 300
        while not slack.posts:
            assert run.poll() is None and time.monotonic() < deadline, run.communicate()
            time.sleep(0.02)
        os.killpg(run.pid, signal.SIGINT)
        out, err = run.communicate(timeout=300)
        assert run.returncode == 130, err[-3000:]
        # Built and judged: the message told to run again before reading the warehouse.
        assert err.splitlines()[-1].startswith(
            "funnelpact: interrupted while sending the alerts: the facts and the judgements are written; the "
            "alerts not sent stay in the outbox, and the next run sends them (run id "), err[-3000:]
        for noise in ("Traceback", "leaked semaphore", "Warning"):
            assert noise not in err, err[-3000:]

        slack.status = 200
        again = invoke("run", "--as-of", AS_OF)
    finally:
        slack.stop()
    assert again.exit_code in (0, 1), again.output
    interrupted, *sent = (post.json()["text"] for post in slack.posts)
    assert sent and sent[0] == interrupted, "the digest the interrupt cut off, and the rest, sent by the next run"


def test_a_cli_run_marks_failed_the_runs_a_killed_cli_process_left_started(settings: Settings) -> None:
    """A killed CLI run stays STARTED in Dagster, and with one run at a time the daemon
    queued every later run behind it for ever."""
    from pipelines.defs.execute import CLI_TAG
    from pipelines.defs.instance import prepare_dagster_home

    prepare_dagster_home(settings.dagster_home)
    instance = dg.DagsterInstance.get()
    here = {CLI_TAG: str(settings.warehouse)}
    orphan, elsewhere, reexecution = (
        instance.add_run(dg.DagsterRun(job_name="funnelpact_job", run_id=run_id, status=dg.DagsterRunStatus.STARTED,
                                       tags=tags))
        for run_id, tags in (("a" * 36, here), ("b" * 36, {CLI_TAG: "/another/warehouse.duckdb"}),
                             # The UI's re-execution of a CLI run copies its tags, and runs in the daemon.
                             ("c" * 36, {**here, "dagster/parent_run_id": "a" * 36})))
    outcome = run_job(settings, "2026-03", "2026-03", datetime(2026, 8, 20, tzinfo=UTC))
    assert outcome.success, outcome.failure
    assert instance.get_run_by_id(orphan.run_id).status == dg.DagsterRunStatus.FAILURE
    assert instance.get_run_by_id(elsewhere.run_id).status == dg.DagsterRunStatus.STARTED, "another warehouse's run"
    assert instance.get_run_by_id(reexecution.run_id).status == dg.DagsterRunStatus.STARTED, "a live daemon run"
    assert instance.get_run_by_id(outcome.run_id).tags[CLI_TAG] == str(settings.warehouse)


# --- the pieces of a run, without running it ---------------------------------------------------

def test_a_family_check_fails_on_a_breach_with_error_only_for_a_fail_severity_one() -> None:
    from pipelines.defs.judgement import KPI_STATUS, family_check

    def row(kpi, status, severity):
        return {"period": "2026-03", "kpi": kpi, "status": status, "severity": severity, "target": 150.0, "actual": 120.0}

    warn_only = [row("volume:visit", "breach", "warn"), row("volume:mql", "at_risk", "fail"),
                 row("conversion:lead->mql", "breach", "fail")]
    check = family_check("volume", warn_only, KPI_STATUS)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["breaches"].value == "2026-03 volume:visit (warn)"
    assert check.metadata["judged"].value == 2 and check.metadata["at_risk"].value == 1
    check = family_check("volume", [*warn_only, row("volume:sql", "breach", "fail")], KPI_STATUS)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    # Which breach makes it an error, and each one's figures.
    assert check.metadata["breaches"].value == "2026-03 volume:visit (warn), 2026-03 volume:sql (fail)"
    assert [dict(r.data) for r in check.metadata["breached"].records] == [
        {"month": "2026-03", "kpi": kpi, "target": 150.0, "actual": 120.0, "severity": severity}
        for kpi, severity in (("volume:visit", "warn"), ("volume:sql", "fail"))]
    # At risk and provisional are no breach: the check passes.
    check = family_check("volume", [row("volume:mql", "at_risk", "fail"), row("volume:sql", "provisional", "fail")],
                         KPI_STATUS)
    assert check.passed and check.metadata["breaches"].value == "none" and "breached" not in check.metadata


def test_with_two_agreements_a_family_check_names_whose_breach_it_is() -> None:
    """na and emea both miss March's leads: the check's metadata read "2026-03 volume:lead,
    2026-03 volume:lead"."""
    from pipelines.defs.judgement import KPI_STATUS, family_check

    rows = [{"period": "2026-03", "kpi": "volume:lead", "status": "breach", "severity": "fail", "agreement": name}
            for name in ("emea", "na")]
    check = family_check("volume", rows, KPI_STATUS)
    assert check.metadata["breaches"].value == "2026-03 volume:lead (emea, fail), 2026-03 volume:lead (na, fail)"
    assert [r.data["agreement"] for r in check.metadata["breached"].records] == ["emea", "na"]
    assert family_check("volume", rows[1:], KPI_STATUS).metadata["breaches"].value == "2026-03 volume:lead (fail)"


def test_a_judgement_is_as_of_the_run_s_instant_and_without_one_as_of_the_facts_it_reads() -> None:
    from pipelines.defs.judgement import judgement_as_of
    from pipelines.defs.partitions import AS_OF_TAG

    with duckdb.connect() as con:
        con.execute("create schema marts")
        con.execute("create table marts.scorecard as select timestamp '2026-08-19 06:00:00' as as_of")
        # A run started with an instant (CLI, schedule) judges as of it, whatever build it reads.
        assert judgement_as_of({AS_OF_TAG: "2026-08-20T12:00:00+00:00"}, con) == datetime(2026, 8, 20, 12, tzinfo=UTC)
        # A UI run has none: the instant the facts were built as of.
        assert judgement_as_of({}, con) == datetime(2026, 8, 19, 6, tzinfo=UTC)


def test_the_daily_build_leaves_out_unit_tests_and_full_scans_and_keeps_the_run_s_selection() -> None:
    from pipelines.defs.dbt import build_args

    assert build_args(["--select", "fqn:a", "--exclude", "fqn:b"], "empty") == [
        "--select", "fqn:a", "--exclude", "fqn:b resource_type:unit_test tag:full_scan", "--indirect-selection", "empty"]
    assert build_args(["--select", "fqn:a"], None) == [
        "--select", "fqn:a", "--exclude", "resource_type:unit_test tag:full_scan"]


def test_a_run_launched_by_dagster_waits_for_a_cli_run_on_the_same_warehouse(settings: Settings, tmp_path) -> None:
    """A 06:00 schedule tick during an engineer's backfill: the daemon's run (here `dagster job
    execute`, as the run worker does) waits for the CLI run's lock, then runs whole. It took
    no lock before, so it failed a step on DuckDB's lock or slipped in between the CLI run's
    steps."""
    import os
    import subprocess
    import sys
    import time

    from pipelines.defs.instance import prepare_dagster_home
    from pipelines.warehouse.run_lock import run_lock

    prepare_dagster_home(settings.dagster_home)
    tags = {"dagster/asset_partition_range_start": "2026-03", "dagster/asset_partition_range_end": "2026-03",
            "funnelpact/as_of": "2026-08-20T12:00:00+00:00"}
    out = tmp_path / "daemon-run.log"
    with run_lock(settings.warehouse), open(out, "w") as log:  # what `funnelpact backfill` holds
        worker = subprocess.Popen([sys.executable, "-m", "dagster", "job", "execute", "-m", "pipelines.definitions",
                                   "-j", "funnelpact_job", "--tags", json.dumps(tags)],
                                  env={**os.environ, "DAGSTER_HOME": str(settings.dagster_home)},
                                  stdout=log, stderr=subprocess.STDOUT, cwd=settings.home.parent)
        deadline = time.monotonic() + 120
        while "waiting for another funnelpact run" not in out.read_text() and time.monotonic() < deadline:
            assert worker.poll() is None, out.read_text()[-3000:]
            time.sleep(0.5)
        assert "waiting for another funnelpact run to finish with" in out.read_text()
        time.sleep(1)
        assert worker.poll() is None and not settings.warehouse.exists(), "it must not start while the lock is held"
    assert worker.wait(timeout=600) == 0, out.read_text()[-3000:]
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        assert con.execute("select distinct period from judgements.kpi_status").fetchall() == [("2026-03",)]
