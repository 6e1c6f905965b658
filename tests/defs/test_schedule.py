"""Which months a tick judges: the current one on pace, earlier ones while cohorts mature."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from pipelines.agreement import load_agreements
from pipelines.defs.partitions import AS_OF_TAG, monthly_partitions, months_to_judge
from pipelines.defs.schedules import daily_run_request

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def agreements():
    return load_agreements(ROOT / "sla")


def test_a_tick_judges_the_current_month_and_those_whose_cohorts_still_mature(agreements) -> None:
    # 2026-05-10 06:00 in Mexico City. The longest cohort window is 90 days: a month is
    # judged until a week after its end + 90 days. February ends 2026-03-01 06:00 UTC,
    # + 90 days = 2026-05-30 > May 10 -> maturing; January + 90 days = 2026-05-02, + 7 days
    # = 2026-05-09 -> settled more than a week ago.
    tick = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
    request = daily_run_request(agreements, tick)
    assert isinstance(request, dg.RunRequest)
    assert request.tags["dagster/asset_partition_range_start"] == "2026-02"
    assert request.tags["dagster/asset_partition_range_end"] == "2026-05"
    assert request.tags[AS_OF_TAG] == "2026-05-10T12:00:00+00:00"


def test_the_local_month_decides_at_a_boundary(agreements) -> None:
    # 2026-07-01 03:00 UTC is still June 30 in Mexico City (UTC-6): June is the current month.
    months = months_to_judge(agreements, datetime(2026, 7, 1, 3, 0, tzinfo=UTC))
    assert months[-1] == "2026-06"
    months = months_to_judge(agreements, datetime(2026, 7, 1, 6, 0, tzinfo=UTC))
    assert months[-1] == "2026-07"


def test_before_the_first_agreement_month_a_tick_is_skipped(agreements) -> None:
    assert isinstance(daily_run_request(agreements, datetime(2025, 12, 1, tzinfo=UTC)), dg.SkipReason)


def test_after_every_window_has_ended_a_tick_is_skipped_saying_so(agreements) -> None:
    # 2026-12 was the last month; its 90-day cohorts matured on 2027-04-01 06:00 UTC, and it
    # is judged for a week more.
    assert months_to_judge(agreements, datetime(2027, 4, 2, 12, 0, tzinfo=UTC)) == ["2026-12"]
    skip = daily_run_request(agreements, datetime(2027, 4, 8, 12, 0, tzinfo=UTC))
    assert isinstance(skip, dg.SkipReason)
    assert "every agreement window has ended (2026-12 was the last month)" in skip.skip_message


def test_in_a_gap_between_windows_a_tick_is_skipped_saying_so(tmp_path, agreement_file) -> None:
    # Spring's March (UTC, no cohorts) settled on 2026-04-08; autumn starts in September.
    # The skip said "no agreement month has started by 2026-07-01", which is untrue.
    agreement_file(tmp_path, "spring", "UTC", "2026-01", "2026-03")
    agreement_file(tmp_path, "autumn", "UTC", "2026-09", "2026-12")
    skip = daily_run_request(load_agreements(tmp_path), datetime(2026, 7, 1, 6, 0, tzinfo=UTC))
    assert isinstance(skip, dg.SkipReason)
    assert "has started" not in skip.skip_message
    assert "no agreement is in force on 2026-07-01" in skip.skip_message
    assert "autumn" in skip.skip_message and "2026-09..2026-12" in skip.skip_message
    early = daily_run_request(load_agreements(tmp_path), datetime(2025, 12, 31, 6, 0, tzinfo=UTC))
    assert early.skip_message == "no agreement month has started by 2025-12-31"


def test_partitions_end_with_the_last_agreement_month(agreements) -> None:
    keys = monthly_partitions(agreements).get_partition_keys(current_time=datetime(2027, 5, 1, tzinfo=UTC))
    assert keys[0] == "2026-01" and keys[-1] == "2026-12"


def test_partitions_are_months_in_the_agreement_timezone_from_its_first_month(agreements) -> None:
    partitions = monthly_partitions(agreements)
    keys = partitions.get_partition_keys(current_time=datetime(2026, 3, 15, tzinfo=UTC))
    assert keys == ["2026-01", "2026-02", "2026-03"]
    assert partitions.timezone == "America/Mexico_City"


def test_with_agreements_in_two_zones_partitions_follow_the_earliest_window_and_the_schedule_the_first_name(
        tmp_path, agreement_file, monkeypatch) -> None:
    """docs/operations.md: emea (Berlin, from March) sorts first by name; na (New York) starts
    in January. The partitions run from na's January in New York, the schedule ticks in Berlin."""
    from pipelines.defs.build import build_definitions

    agreement_file(tmp_path, "emea", "Europe/Berlin", "2026-03", "2027-02")
    agreement_file(tmp_path, "na", "America/New_York", "2026-01", "2026-12")
    for variable in ("FUNNELPACT_SCHEDULE_TIMEZONE", "FUNNELPACT_SCHEDULE_CRON"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("FUNNELPACT_SLA_DIR", str(tmp_path))
    partitions = monthly_partitions(load_agreements(tmp_path))
    assert partitions.timezone == "America/New_York"
    assert partitions.get_partition_keys(current_time=datetime(2026, 2, 15, tzinfo=UTC)) == ["2026-01", "2026-02"]
    schedule = build_definitions().get_unresolved_schedule_def("funnelpact_daily")
    assert schedule.execution_timezone == "Europe/Berlin"


def test_the_dagster_home_serialises_runs_and_turns_telemetry_off(tmp_path, monkeypatch) -> None:
    from pipelines.defs.instance import prepare_dagster_home

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = prepare_dagster_home(tmp_path / "dagster")
    instance = dg.DagsterInstance.from_config(str(home))
    assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1
    assert instance.telemetry_enabled is False
    # A user's own edits survive the next CLI run.
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n# edited\n")
    prepare_dagster_home(home)
    assert "# edited" in (home / "dagster.yaml").read_text()


def test_the_dagster_home_keeps_event_connections_open_and_stock_dagster_reads_it(tmp_path, monkeypatch) -> None:
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
        SqliteEventLogStorage,
    )

    from pipelines.defs.event_log import PooledSqliteEventLogStorage
    from pipelines.defs.instance import HEADER, SETTINGS, prepare_dagster_home

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = tmp_path / "dagster"
    home.mkdir()
    # A home written by an earlier funnelpact is upgraded to the pooled event log.
    (home / "dagster.yaml").write_text(HEADER + SETTINGS)
    prepare_dagster_home(home)
    instance = dg.DagsterInstance.from_config(str(home))
    assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)

    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(["a", "b"]))
    def thing() -> int:
        return 1

    result = dg.materialize([thing], instance=instance, partition_key="b")
    assert result.success
    instance.dispose()
    # The same files, read by Dagster's own storage: the run's events and the asset index.
    stock = SqliteEventLogStorage(str(home / "history" / "runs"))
    types = [e.dagster_event.event_type_value for e in stock.get_logs_for_run(result.run_id) if e.dagster_event]
    assert "ASSET_MATERIALIZATION" in types and types[-1] == "PIPELINE_SUCCESS"
    record = stock.get_latest_materialization_events([dg.AssetKey("thing")])[dg.AssetKey("thing")]
    assert record is not None and record.dagster_event.partition == "b"


def test_a_month_has_started_at_its_local_midnight(agreements) -> None:
    from pipelines.agreement.load import has_started

    # July begins 2026-07-01 06:00 UTC in Mexico City.
    assert not has_started(agreements, "2026-07", datetime(2026, 7, 1, 5, 59, 59, tzinfo=UTC))
    assert has_started(agreements, "2026-07", datetime(2026, 7, 1, 6, 0, tzinfo=UTC))
    assert not has_started(agreements, "2031-01", datetime(2032, 1, 1, tzinfo=UTC))  # no agreement


def test_months_are_named_as_consecutive_spans() -> None:
    from pipelines.agreement.months import spans

    assert spans(["2027-01", "2025-11", "2025-12", "2026-03"]) == "2025-11..2025-12, 2026-03, 2027-01"
    assert spans(["2026-12", "2027-01"]) == "2026-12..2027-01"


def test_run_over_months_not_started_is_bad_input_before_any_work(tmp_path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from pipelines.cli import app

    monkeypatch.setenv("FUNNELPACT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FUNNELPACT_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    (tmp_path / "data").mkdir()
    result = CliRunner().invoke(app, ["run", "--sla", str(ROOT / "sla"), "--data", str(tmp_path / "data"),
                                      "--from", "2026-12", "--to", "2026-12", "--as-of", "2026-11-25T00:00:00Z"])
    assert result.exit_code == 2
    assert ("2026-12 has not started by 2026-11-25 00:00 UTC: there is nothing to judge yet: give a later --as-of, "
            "or judge it once it has started") in " ".join(result.output.split())
    assert not (tmp_path / "w.duckdb").exists()


def test_a_run_after_every_agreement_month_says_so_and_how_to_judge_them(tmp_path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from pipelines.cli import app

    monkeypatch.setenv("FUNNELPACT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FUNNELPACT_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    (tmp_path / "data").mkdir()
    result = CliRunner().invoke(app, ["run", "--sla", str(ROOT / "sla"), "--data", str(tmp_path / "data"),
                                      "--as-of", "2028-06-01T00:00:00Z"])
    assert result.exit_code == 2
    said = " ".join(result.output.split())
    assert "no agreement month is under way or settling as of 2028-06-01" in said
    assert "--from 2026-12 --to 2026-12" in said and "has started" not in said


def test_in_a_gap_between_windows_the_hint_names_a_month_that_has_begun(tmp_path, agreement_file) -> None:
    from pipelines.cli.pipeline_cmds import nothing_to_judge

    agreement_file(tmp_path, "spring", "UTC", "2026-01", "2026-03")
    agreement_file(tmp_path, "autumn", "UTC", "2026-09", "2026-12")
    problem = nothing_to_judge(load_agreements(tmp_path), datetime(2026, 7, 1, tzinfo=UTC))
    assert "e.g. --from 2026-03 --to 2026-03" in problem.message  # not 2026-12, which has not begun
    early = nothing_to_judge(load_agreements(tmp_path), datetime(2025, 12, 31, tzinfo=UTC))
    assert early.message == "no agreement month has started by 2025-12-31: nothing to judge"


def test_a_run_says_which_asked_months_it_leaves_out_and_why() -> None:
    from pipelines.agreement.months import month_range
    from pipelines.agreement.load import not_judged

    asked = month_range("2025-11", "2027-02")
    in_force = month_range("2026-01", "2026-12")
    assert not_judged(asked, in_force, month_range("2026-01", "2026-11")) == [
        "not judged: 2025-11..2025-12, 2027-01..2027-02 (no agreement in force)",
        "not judged: 2026-12 (not started by the as-of instant)",
    ]
    assert not_judged(in_force, in_force, in_force) == []


def test_a_month_has_started_when_it_has_for_any_agreement_in_force(tmp_path, agreement_file) -> None:
    from pipelines.agreement.load import has_started

    # July starts 2026-06-30 15:00 UTC in Tokyo, 2026-07-01 06:00 UTC in Mexico City.
    agreement_file(tmp_path, "a-tokyo", "Asia/Tokyo", "2026-07", "2026-09")
    for f in (ROOT / "sla").glob("*.yaml"):
        (tmp_path / f.name).write_text(f.read_text())
    both = load_agreements(tmp_path)
    at = datetime(2026, 6, 30, 16, 0, tzinfo=UTC)
    assert has_started(both, "2026-07", at) and has_started(list(reversed(both)), "2026-07", at)
    assert not has_started([a for a in both if a.name == "acme"], "2026-07", at)


def test_a_month_is_judged_once_settled_and_for_a_week_after(agreements) -> None:
    # SPEC §3: a cohort is mature once the end of its month plus W days is at or before the
    # as-of. January ends 2026-02-01 06:00 UTC in Mexico City (UTC-6); + 90 days = 2026-05-02
    # 06:00 UTC, when its last KPI becomes final: the next tick (12:00 UTC) must judge it,
    # and so must the ticks of the following week, in case the daemon missed some.
    for tick in (datetime(2026, 5, 2, 5, 59, 59, tzinfo=UTC), datetime(2026, 5, 2, 12, 0, tzinfo=UTC),
                 datetime(2026, 5, 9, 5, 59, 59, tzinfo=UTC)):
        assert months_to_judge(agreements, tick)[0] == "2026-01", tick
    assert months_to_judge(agreements, datetime(2026, 5, 9, 6, 0, tzinfo=UTC)) == [
        "2026-02", "2026-03", "2026-04", "2026-05"]
    request = daily_run_request(agreements, datetime(2026, 5, 2, 12, 0, tzinfo=UTC))
    assert request.tags["dagster/asset_partition_range_start"] == "2026-01"


def _without_cohorts(tmp_path: Path, handoff: str = "") -> list:
    text = (ROOT / "tests/fixtures/sla/valid/minimal-agreement-relying-on-defaults.yaml").read_text()
    file = tmp_path / "minimal.yaml"
    file.write_text(text + handoff)
    return load_agreements(file)


def test_without_cohorts_a_closed_month_is_judged_final_by_the_next_ticks(tmp_path) -> None:
    # Every rate by period: January (UTC) is final at its end, 2026-02-01 00:00. The tick
    # that day must judge it (met or breach, and its alert), not leave it provisional for
    # ever as its last judgement of January 31.
    minimal = _without_cohorts(tmp_path)
    assert months_to_judge(minimal, datetime(2026, 2, 1, 6, 0, tzinfo=UTC)) == ["2026-01", "2026-02"]
    assert months_to_judge(minimal, datetime(2026, 2, 7, 23, 59, 59, tzinfo=UTC)) == ["2026-01", "2026-02"]
    assert months_to_judge(minimal, datetime(2026, 2, 8, 0, 0, tzinfo=UTC)) == ["2026-02"]
    # March, the last month, is judged after the window has ended, then the tick is skipped.
    assert months_to_judge(minimal, datetime(2026, 4, 1, 6, 0, tzinfo=UTC)) == ["2026-03"]
    skip = daily_run_request(minimal, datetime(2026, 4, 8, 6, 0, tzinfo=UTC))
    assert isinstance(skip, dg.SkipReason) and "its months have settled" in skip.skip_message


def test_a_hand_off_limit_longer_than_every_cohort_window_keeps_the_month_settling(tmp_path) -> None:
    # January's decisions are due up to 2026-02-11 00:00 (10 days), and its recycle rate is
    # final only then: January is judged until a week after that.
    minimal = _without_cohorts(tmp_path, "  handoff:\n    first_touch: {within_hours: 4, attainment: 0.9}\n"
                                         "    decision: {within_days: 10, attainment: 0.9}\n")
    assert months_to_judge(minimal, datetime(2026, 2, 17, 23, 0, tzinfo=UTC))[0] == "2026-01"
    assert months_to_judge(minimal, datetime(2026, 2, 18, 0, 0, tzinfo=UTC))[0] == "2026-02"


def test_a_rare_cron_judges_each_month_that_settled_since_its_previous_tick(tmp_path) -> None:
    # January settles on 2026-02-11 00:00 (its 10-day decisions). A monthly cron ticks on the
    # 1st at 06:00: on March 1 January settled more than a week ago, but after the February
    # tick, which judged it still settling. The March tick judges it final.
    from pipelines.defs.schedules import previous_tick

    minimal = _without_cohorts(tmp_path, "  handoff:\n    first_touch: {within_hours: 4, attainment: 0.9}\n"
                                         "    decision: {within_days: 10, attainment: 0.9}\n")
    march = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
    february = previous_tick("0 6 1 * *", march, "UTC")
    assert february == datetime(2026, 2, 1, 6, 0, tzinfo=UTC)
    assert months_to_judge(minimal, march, february) == ["2026-01", "2026-02", "2026-03"]
    assert months_to_judge(minimal, march) == ["2026-02", "2026-03"]  # a week's grace alone: too late
    # A previous tick at the very instant January settled judged it final already.
    later = datetime(2026, 2, 19, 0, 0, tzinfo=UTC)
    assert months_to_judge(minimal, later, datetime(2026, 2, 11, 0, 0, tzinfo=UTC)) == ["2026-02"]
    assert months_to_judge(minimal, later, datetime(2026, 2, 10, 23, 59, 59, tzinfo=UTC)) == ["2026-01", "2026-02"]


def _out_of_date_system_zones(folder: Path) -> Path:
    """A system zoneinfo folder whose Vancouver still moves to -8 in winter: the tzdata package's
    Los Angeles under Vancouver's name, as system files older than Vancouver's 2026 change read
    (the package funnelpact installs keeps Vancouver at -7 from November 2026)."""
    from importlib import resources

    (folder / "America").mkdir(parents=True)
    los_angeles = resources.files("tzdata.zoneinfo").joinpath("America", "Los_Angeles").read_bytes()
    (folder / "America" / "Vancouver").write_bytes(los_angeles)
    return folder


def test_a_system_zone_that_disagrees_with_the_package_is_found_and_one_that_agrees_is_not(tmp_path) -> None:
    import zoneinfo

    from pipelines.defs.schedules import system_zone_disagrees

    zoneinfo.reset_tzpath([str(_out_of_date_system_zones(tmp_path))])
    zoneinfo.ZoneInfo.clear_cache()
    try:
        before = datetime(2026, 6, 1, tzinfo=UTC)
        found = system_zone_disagrees("America/Vancouver", before)
        # 2026-11-01 09:00 UTC is 02:00 PDT: where Los Angeles falls back and Vancouver stays.
        assert found is not None and datetime(2026, 11, 1, 9, tzinfo=UTC) <= found < datetime(2026, 11, 1, 12, tzinfo=UTC)
        assert system_zone_disagrees("America/Vancouver", before, days=100) is None, "summer 2026 agrees"
        assert system_zone_disagrees("Europe/Berlin", before) is None, "not in the folder: read from the package"
    finally:
        zoneinfo.reset_tzpath()
        zoneinfo.ZoneInfo.clear_cache()


def test_the_code_location_warns_when_dagster_would_tick_by_other_zone_files(tmp_path) -> None:
    import os
    import subprocess
    import sys

    system = str(_out_of_date_system_zones(tmp_path / "zoneinfo"))

    def load(tzpath: str) -> str:
        env = {**os.environ, "PYTHONTZPATH": tzpath, "FUNNELPACT_SCHEDULE_TIMEZONE": "America/Vancouver",
               "FUNNELPACT_SLA_DIR": str(Path(__file__).resolve().parents[2] / "sla")}
        done = subprocess.run([sys.executable, "-c", "import pipelines.definitions"], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        return " ".join(done.stderr.split())

    warned = load(system)
    assert ("this system's time zone files differ from the tzdata package funnelpact reads for America/Vancouver"
            in warned and "PYTHONTZPATH= (empty)" in warned), warned
    assert "time zone files differ" not in load(""), "PYTHONTZPATH= makes Dagster read the package"


def test_a_home_written_with_the_pooled_event_log_gets_the_compute_logs_whose_mirrors_ignore_ctrl_c(
        tmp_path, monkeypatch) -> None:
    """The processes that mirror a run's captured output took the terminal's Ctrl-C and printed
    tracebacks (tests/defs/test_job_runs.py sends one); the captured output stays where the UI reads it."""
    from dagster._core.storage.local_compute_log_manager import LocalComputeLogManager

    from pipelines.defs.compute_logs import MirroredComputeLogManager
    from pipelines.defs.instance import EVENT_LOG, HEADER, SETTINGS, prepare_dagster_home

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text(HEADER + SETTINGS + EVENT_LOG.format(base_dir=home.resolve() / "history" / "runs"))
    prepare_dagster_home(home)
    instance = dg.DagsterInstance.from_config(str(home))
    assert isinstance(instance.compute_log_manager, MirroredComputeLogManager)

    @dg.asset
    def loud() -> int:
        import signal

        print("captured", signal.pthread_sigmask(signal.SIG_BLOCK, set()) == set())  # Ctrl-C reaches the step
        return 1

    result = dg.materialize([loud], instance=instance)
    assert result.success
    instance.dispose()
    # Dagster's own manager, as the UI without funnelpact's class, reads what was captured.
    stock = LocalComputeLogManager(str(home / "storage"))
    [key] = [e.logs_captured_data.file_key for e in result.all_events if e.event_type_value == "LOGS_CAPTURED"]
    captured = stock.get_log_data([result.run_id, "compute_logs", key])
    assert b"captured True" in captured.stdout, captured
