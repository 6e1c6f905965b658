"""The one Definitions: it loads, holds the job, the schedule and the checks."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import pytest

from pipelines.defs.build import build_definitions
from pipelines.defs.jobs import JOB_NAME
from pipelines.settings import Settings

pytestmark = pytest.mark.slow


def test_the_definitions_load_with_every_asset_the_job_needs(settings: Settings) -> None:
    defs = build_definitions(settings)
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"crm/contacts", "web/web_sessions", "agreement/targets", "marts/scorecard", "kpi_status", "alerts"} <= keys
    # Every dbt source is written by a Python asset: no external, never-materialised inputs.
    assert all(graph.get(k).is_materializable for k in graph.get_all_asset_keys())
    checks = {c.name for c in graph.asset_check_keys}
    assert {"volume_targets", "conversion_targets", "handoff_targets", "revenue_targets"} <= checks
    assert defs.resolve_job_def(JOB_NAME).partitions_def is not None


def test_only_the_judgements_are_partitioned_by_month(settings: Settings) -> None:
    """Each run loads everything and rebuilds every dbt table whole: those assets have no
    months. The months a run judges are those of kpi_status and alerts."""
    graph = build_definitions(settings).resolve_asset_graph()
    monthly = {k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).partitions_def}
    assert monthly == {"kpi_status", "alerts"}
    # The job's own policy: a backfill launched from the job's page (docs/operations.md) is one
    # run over the range, as `funnelpact backfill` is, not one run per month.
    assert build_definitions(settings).resolve_job_def(JOB_NAME).backfill_policy == dg.BackfillPolicy.single_run()


def test_the_schedule_of_the_definitions_requests_the_maturing_months(settings: Settings) -> None:
    defs = build_definitions(settings)
    schedule = defs.resolve_schedule_def("funnelpact_daily")
    assert schedule.cron_schedule == "0 6 * * *"
    assert schedule.execution_timezone == "America/Mexico_City"
    tick = datetime(2026, 9, 15, 12, 0, tzinfo=UTC)
    context = dg.build_schedule_context(scheduled_execution_time=tick)
    [request] = schedule.evaluate_tick(context).run_requests
    # June ends 2026-07-01 06:00 UTC; + 90 days = 2026-09-29 > Sept 15: still maturing.
    assert request.tags["dagster/asset_partition_range_start"] == "2026-06"
    assert request.tags["dagster/asset_partition_range_end"] == "2026-09"


def test_a_monthly_cron_judges_a_month_final_at_the_first_tick_after_it_settled(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    # January's 90-day cohorts mature on 2026-05-02 06:00 UTC. The monthly ticks around it are
    # May 1 and June 1 (06:00 in Mexico City, 12:00 UTC): June 1 is the first to see January
    # final, a month after it settled, long after the daily schedule's week of grace.
    monkeypatch.setenv("FUNNELPACT_SCHEDULE_CRON", "0 6 1 * *")
    schedule = build_definitions(settings).resolve_schedule_def("funnelpact_daily")

    def first_month(tick: datetime) -> str:
        [request] = schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=tick)).run_requests
        return request.tags["dagster/asset_partition_range_start"]

    assert first_month(datetime(2026, 5, 1, 12, 0, tzinfo=UTC)) == "2026-01"   # still maturing
    assert first_month(datetime(2026, 6, 1, 12, 0, tzinfo=UTC)) == "2026-01"   # final now: judged once more
    assert first_month(datetime(2026, 7, 1, 12, 0, tzinfo=UTC)) == "2026-03"   # February settled on June 1


def test_a_tick_after_sla_changed_under_the_loaded_code_location_says_to_reload_it(settings: Settings) -> None:
    """The next revision merged into sla/ while `dagster dev` runs: the schedule and the
    partitions still follow the agreements read at load. The tick's "add the next revision"
    would send the user to add what is there; a tick that requests a run warns in its log."""
    import logging

    schedule = build_definitions(settings).resolve_schedule_def("funnelpact_daily")
    h2 = settings.sla_dir / "acme-2026-h2.yaml"
    (settings.sla_dir / "acme-2027-h1.yaml").write_text(
        h2.read_text().replace("revision: 2026-h2", "revision: 2027-h1")
        .replace("effective: {from: 2026-07, to: 2026-12}", "effective: {from: 2027-01, to: 2027-06}")
        .replace("seasonality: {2026-08: 0.7, 2026-11: 1.2, 2026-12: 1.3}", "seasonality: {}"))

    after_the_windows = dg.build_schedule_context(scheduled_execution_time=datetime(2027, 6, 1, 12, 0, tzinfo=UTC))
    skip = schedule.evaluate_tick(after_the_windows).skip_message
    assert skip.startswith("every agreement window has ended")
    assert f"the agreements in {settings.sla_dir} have changed since the code location loaded them: reload it" in skip

    in_a_window = dg.build_schedule_context(scheduled_execution_time=datetime(2026, 9, 15, 12, 0, tzinfo=UTC))
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    in_a_window.log.addHandler(handler)
    assert schedule.evaluate_tick(in_a_window).run_requests
    assert any("have changed since the code location loaded them" in r.getMessage() for r in records
               if r.levelno == logging.WARNING)

    # Agreements that no longer validate fail the tick with the file and line, as the run would.
    h1 = settings.sla_dir / "acme-2026-h1.yaml"
    h1.write_text(h1.read_text().replace("rate: 0.30", "rate: 1.30"))
    with pytest.raises(dg.DagsterError) as failed:
        schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=datetime(2026, 9, 15, 12, 0, tzinfo=UTC)))
    assert f"{h1}:" in str(failed.value.__cause__) and "lead->mql.rate: 1.30 is not a rate" in str(failed.value.__cause__)


def test_the_schedule_time_and_timezone_are_configurable(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNNELPACT_SCHEDULE_CRON", "30 7 * * 1-5")
    monkeypatch.setenv("FUNNELPACT_SCHEDULE_TIMEZONE", "Europe/Lisbon")
    schedule = build_definitions(settings).resolve_schedule_def("funnelpact_daily")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("30 7 * * 1-5", "Europe/Lisbon")


def test_a_cron_alias_is_a_schedule_as_the_error_for_a_bad_one_says(settings: Settings,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNNELPACT_SCHEDULE_CRON", "@daily")
    assert build_definitions(settings).resolve_schedule_def("funnelpact_daily").cron_schedule == "@daily"


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("FUNNELPACT_SCHEDULE_TIMEZONE", "Mars/Olympus", "'Mars/Olympus' is not an IANA time zone"),
    ("FUNNELPACT_SCHEDULE_TIMEZONE", "America", "'America' is not an IANA time zone"),  # a folder of zones
    ("FUNNELPACT_SCHEDULE_CRON", "every day", "or an alias such as '@daily'"),
    ("FUNNELPACT_DBT_THREADS", "two", "'two' is not a number of threads: expected a whole number, 1 or more"),
    ("FUNNELPACT_DBT_THREADS", "0", "'0' is not a number of threads"),  # dbt: "max_workers must be greater than 0"
    ("FUNNELPACT_DUCKDB_MEMORY_LIMIT", "2 gigs", "'2 gigs' is not a memory limit"),
    # dbt refused these in the run's dbt step only: exit 3, a failed run told to the channels.
    ("FUNNELPACT_DBT_TARGET", "postgres", "'postgres' is not a target of "),
    ("FUNNELPACT_DBT_TARGET", "", "'' is not a target of "),
    # A mistyped path (or a non-editable install's default) was exit 3, "this is a bug".
    ("FUNNELPACT_DBT_PROJECT_DIR", "/nonexistent/dbt_project", "/nonexistent/dbt_project FUNNELPACT_DBT_PROJECT_DIR: "
                                                               "no dbt project (no dbt_project.yml)"),
])
def test_a_bad_schedule_or_dbt_setting_is_bad_input_for_the_run_too(settings: Settings, monkeypatch: pytest.MonkeyPatch,
                                                             variable: str, value: str, message: str) -> None:
    from typer.testing import CliRunner

    from pipelines.cli import app

    monkeypatch.setenv(variable, value)
    result = CliRunner().invoke(app, ["run", "--from", "2026-03", "--to", "2026-03",
                                      "--as-of", "2026-08-20T12:00:00Z"])
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())  # however the terminal wraps it
    assert message in said and variable in said and "Traceback" not in said
    if variable not in ("FUNNELPACT_SCHEDULE_TIMEZONE", "FUNNELPACT_SCHEDULE_CRON", "FUNNELPACT_DBT_PROJECT_DIR"):
        # A setting of the run's steps is refused before the command says it is judging.
        assert "judging" not in said, said


def test_the_code_location_warns_when_the_ui_would_use_a_throwaway_dagster_home(settings: Settings, tmp_path,
                                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import subprocess
    import sys

    from pipelines.defs.instance import prepare_dagster_home

    def load(dagster_home: str | None) -> str:
        # PYTHONTZPATH empty as docs/operations.md starts the UI: no warning of stale zone files.
        env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"} | {"PYTHONTZPATH": ""}
        if dagster_home:
            env["DAGSTER_HOME"] = dagster_home
        done = subprocess.run([sys.executable, "-c", "import pipelines.definitions"], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stderr

    assert "DAGSTER_HOME (not set) is not a home funnelpact prepared" in load(None)
    # The home to start the UI with is funnelpact's: $FUNNELPACT_HOME/dagster, not the default
    # $PWD/.funnelpact/dagster the warning named whatever FUNNELPACT_HOME said.
    monkeypatch.setenv("FUNNELPACT_HOME", str(tmp_path / "state"))
    said = " ".join(load(None).split())
    assert f"DAGSTER_HOME={(tmp_path / 'state' / 'dagster').resolve()}" in said, said
    # An exported home that funnelpact has not prepared yet is the one `funnelpact run` prepares.
    said = " ".join(load(str(tmp_path / "fresh")).split())
    assert "is not a home funnelpact prepared" in said and "with this DAGSTER_HOME" in said, said
    assert ".funnelpact/dagster" not in said, said
    monkeypatch.setenv("FUNNELPACT_HOME", str(settings.home))
    # In a prepared home the code location loads silently: no warning of Dagster's API either
    # (`dagster dev` and `dagster asset materialize -m` print a load's warnings every time).
    assert load(str(prepare_dagster_home(settings.dagster_home))) == ""


@pytest.mark.slow
def test_dagster_s_own_validate_command_as_docs_operations_runs_it(settings: Settings) -> None:
    """`dagster definitions validate -w workspace.yaml` from the repository root
    (docs/operations.md, "Checking the code location"): it passes on good agreements, and on
    a bad one fails with the file, line and field `funnelpact validate` names."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from pipelines.defs.instance import prepare_dagster_home

    root = Path(__file__).resolve().parents[2]
    prepare_dagster_home(settings.dagster_home)

    def validate() -> subprocess.CompletedProcess:
        return subprocess.run([str(Path(sys.executable).parent / "dagster"), "definitions", "validate",
                               "-w", "workspace.yaml"], cwd=root, capture_output=True, text=True, timeout=300)

    good = validate()
    assert good.returncode == 0, good.stderr[-3000:]
    assert good.stdout.splitlines()[-1].endswith("All code locations passed validation.")

    bad = settings.sla_dir / "acme-2026-h1.yaml"
    shutil.copyfile(root / "tests/fixtures/sla/invalid/duplicate-key-is-refused.yaml", bad)
    failed = validate()
    assert failed.returncode != 0
    assert f"{bad}:15:3 spec.timezone: duplicate key 'timezone'" in failed.stderr + failed.stdout


def test_every_setting_in_the_launchpad_says_what_it_is_and_what_empty_means(settings: Settings) -> None:
    """The launchpad shows the job's resource config (the paths a run may be pointed
    elsewhere with): a field without a description left the reader to guess."""
    job = build_definitions(settings).resolve_job_def(JOB_NAME)
    fields = job.resource_defs["funnelpact"].config_schema.config_type.fields
    assert set(fields) == {"sla_dir", "data_dir", "duckdb_path", "home"}
    variables = {"sla_dir": "FUNNELPACT_SLA_DIR", "data_dir": "FUNNELPACT_DATA_DIR",
                 "duckdb_path": "FUNNELPACT_DUCKDB_PATH", "home": "FUNNELPACT_HOME"}
    for name, field in fields.items():
        assert field.description and f"Empty: {variables[name]}" in field.description, name


def test_the_schedule_s_description_names_its_cron_and_where_to_change_it(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNNELPACT_SCHEDULE_CRON", "0 6 * * 1-5")
    description = build_definitions(settings).resolve_schedule_def("funnelpact_daily").description
    assert "Every day" not in description   # weekdays only
    assert "'0 6 * * 1-5' in America/Mexico_City (FUNNELPACT_SCHEDULE_CRON, FUNNELPACT_SCHEDULE_TIMEZONE)" in description


def test_every_asset_has_a_description_of_its_own(settings: Settings) -> None:
    """The UI's asset page: each input table said "The CRM data directory loaded into raw.*
    with quarantine", raw.quarantine as raw.contacts. Each now says which table it is."""
    graph = build_definitions(settings).resolve_asset_graph()
    descriptions = {k.to_user_string(): graph.get(k).description for k in graph.get_all_asset_keys()}
    assert all(descriptions.values()), [k for k, d in descriptions.items() if not d]
    assert len(set(descriptions.values())) == len(descriptions)
    assert descriptions["crm/quarantine"].startswith("raw.quarantine: One row per row the loader refused")
    assert descriptions["agreement/targets"].startswith("raw.agreement_targets: One row per revision, month and KPI")
