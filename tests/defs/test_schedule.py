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
    # maturing while its end + 90 days is after the tick. February ends 2026-03-01 06:00 UTC,
    # + 90 days = 2026-05-30 > May 10 -> maturing; January + 90 days = 2026-05-02 -> mature.
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


def test_partitions_are_months_in_the_agreement_timezone_from_its_first_month(agreements) -> None:
    partitions = monthly_partitions(agreements)
    keys = partitions.get_partition_keys(current_time=datetime(2026, 3, 15, tzinfo=UTC))
    assert keys == ["2026-01", "2026-02", "2026-03"]
    assert partitions.timezone == "America/Mexico_City"


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
