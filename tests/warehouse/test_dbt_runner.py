"""The pure parts of invoking dbt: arguments, the as-of var, the warehouse path."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from pipelines.errors import InputError
from pipelines.warehouse.dbt_runner import DEFAULT_PROJECT_DIR, dbt_args, format_as_of, project_dir
from pipelines.warehouse.duckdb_path import DEFAULT_PATH, duckdb_path

PROJECT = Path("/srv/funnelpact/dbt_project")


def test_project_and_profiles_dirs_point_at_the_dbt_project():
    assert dbt_args("build", project=PROJECT) == [
        "build", "--project-dir", str(PROJECT), "--profiles-dir", str(PROJECT),
    ]


def test_the_default_project_is_the_repository_dbt_project():
    assert (DEFAULT_PROJECT_DIR / "dbt_project.yml").is_file()
    assert project_dir({}) == DEFAULT_PROJECT_DIR
    assert project_dir({"FUNNELPACT_DBT_PROJECT_DIR": "/x/p"}) == Path("/x/p")


def test_as_of_goes_to_the_vars_as_utc_text():
    args = dbt_args("build", project=PROJECT, as_of="2026-03-31T20:00:00-04:00")
    assert json.loads(args[args.index("--vars") + 1]) == {"as_of": "2026-04-01 00:00:00"}


def test_selection_target_paths_and_extra_flags_are_passed_through(tmp_path):
    args = dbt_args(
        "run", project=PROJECT, select=["marts.scorecard+", "tag:x"], exclude=["resource_type:unit_test"],
        target="ci", target_path=tmp_path / "t", log_path=tmp_path / "l", full_refresh=True,
        dbt_vars={"other": 1}, as_of=date(2026, 3, 1), extra=["--fail-fast"],
    )
    assert args[args.index("--select") + 1: args.index("--select") + 3] == ["marts.scorecard+", "tag:x"]
    assert args[args.index("--exclude") + 1] == "resource_type:unit_test"
    assert args[args.index("--target") + 1] == "ci"
    assert args[args.index("--target-path") + 1] == str(tmp_path / "t")
    assert args[args.index("--log-path") + 1] == str(tmp_path / "l")
    assert json.loads(args[args.index("--vars") + 1]) == {"as_of": "2026-03-01 00:00:00", "other": 1}
    assert args[-2:] == ["--full-refresh", "--fail-fast"]


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-03-31 23:00:00", "2026-03-31 23:00:00"),
    ("2026-03-31T23:00:00Z", "2026-03-31 23:00:00"),
    ("2026-03-31", "2026-03-31 00:00:00"),
    (datetime(2026, 3, 8, 7, 0, 0, 123456), "2026-03-08 07:00:00"),
    (datetime(2026, 3, 8, 2, 0, tzinfo=timezone(timedelta(hours=-5))), "2026-03-08 07:00:00"),
    (datetime(2026, 3, 8, 7, 0, tzinfo=UTC), "2026-03-08 07:00:00"),
])
def test_as_of_is_naive_utc_to_the_second(value, expected):
    assert format_as_of(value) == expected


def test_a_malformed_as_of_is_bad_input():
    with pytest.raises(InputError, match="as-of instant 'yesterday'"):
        format_as_of("yesterday")


def test_warehouse_path_comes_from_the_environment_at_call_time(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert duckdb_path({}) == tmp_path / DEFAULT_PATH
    assert duckdb_path({"FUNNELPACT_DUCKDB_PATH": "w/x.duckdb"}) == tmp_path / "w" / "x.duckdb"
    monkeypatch.setenv("FUNNELPACT_DUCKDB_PATH", str(tmp_path / "env.duckdb"))
    assert duckdb_path() == tmp_path / "env.duckdb"
