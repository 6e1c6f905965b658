"""Daily runs over daily Parquet parts end where one fresh backfill ends (SPEC §6).

A small company lands each morning's new rows as a new part per table (docs/data.md, *New
files are appended*), and `funnelpact run` judges as of 06:00 in Mexico City, as the
schedule does (docs/operations.md): across the June→July month and revision boundary, with a
corrected part (a full reload), then a day appended while a pull request edits the agreement.
A fresh warehouse backfilled once as of that last instant, over the same files, must hold
the same judgements, marts and raw tables; and the alert state must have announced each
status change once, as docs/alerts.md's table says.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.data import load as load_module
from pipelines.data.generate import generate

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
# The instant a row is known: contacts when created, events when they happen, a deal when it
# last changed (bench/datasets.py: a changed row must not be landed twice).
DATE_OF = {
    "contacts": "created_at",
    "lifecycle_events": "occurred_at",
    "activities": "occurred_at",
    "deals": "greatest(created_at, coalesce(closed_at, created_at))",
}
DAYS = [date(2026, 6, 30), date(2026, 7, 1), date(2026, 7, 2)]
ALERTING = ("breach", "at_risk")


def morning(day: date) -> datetime:
    """06:00 in America/Mexico_City (UTC-6 all year): the schedule's tick."""
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def land(full: Path, data: Path, name: str, after: datetime | None, upto: datetime) -> None:
    """The rows known in (after, upto] as `<table>/<name>.parquet`; web sessions of the local
    dates begun by then (a month's visits are the sessions of its dates that have begun)."""
    con = duckdb.connect()
    stamp = "%Y-%m-%d %H:%M:%S"
    for table, column in DATE_OF.items():
        typed = f"try_cast({column} as timestamp)"
        where = (f"{typed} is null or {typed} <= '{upto:{stamp}}'" if after is None
                 else f"{typed} > '{after:{stamp}}' and {typed} <= '{upto:{stamp}}'")
        (data / table).mkdir(parents=True, exist_ok=True)
        con.execute(f"copy (select * from read_parquet('{full / table}.parquet') where {where}) "
                    f"to '{data / table / name}.parquet' (format parquet)")
    local = (upto - timedelta(hours=6)).date()
    typed = 'try_cast("date" as date)'
    where = (f"{typed} is null or {typed} <= '{local}'" if after is None
             else f"{typed} > '{(after - timedelta(hours=6)).date()}' and {typed} <= '{local}'")
    (data / "web_sessions").mkdir(parents=True, exist_ok=True)
    con.execute(f"copy (select * from read_parquet('{full}/web_sessions.parquet') where {where}) "
                f"to '{data / 'web_sessions' / name}.parquet' (format parquet)")
    con.close()


def use(monkeypatch: pytest.MonkeyPatch, home: Path, data: Path, sla: Path) -> Path:
    for key, value in {"FUNNELPACT_HOME": home, "FUNNELPACT_DUCKDB_PATH": home / "warehouse.duckdb",
                       "DAGSTER_HOME": home / "dagster", "FUNNELPACT_DATA_DIR": data,
                       "FUNNELPACT_SLA_DIR": sla}.items():
        monkeypatch.setenv(key, str(value))
    return home / "warehouse.duckdb"


def invoke(*args: str) -> dict:
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def state(warehouse: Path, months: list[str]) -> dict[str, list]:
    """Judgements of `months` (without the runs' ids), marts and raw tables, in a fixed order."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [f"{schema}.{name}" for schema, name in con.execute(
            "select schema_name, table_name from duckdb_tables() where schema_name in ('marts', 'raw') "
            "and table_name <> 'load_files' order by all").fetchall()]
        out = {table: con.execute(f"select * from {table} order by all").fetchall() for table in tables}
        out["kpi_status"] = con.execute(
            "select * exclude (run_id, build_id) from judgements.kpi_status where period in (select unnest(?)) "
            "order by all", [months]).fetchall()
    return out


def test_daily_runs_over_daily_parts_end_where_one_fresh_backfill_ends(tmp_path, monkeypatch) -> None:
    for secret in ("FUNNELPACT_SLACK_WEBHOOK", "FUNNELPACT_SMTP_URL", "FUNNELPACT_ALERT_WEBHOOK"):
        monkeypatch.delenv(secret, raising=False)
    monkeypatch.chdir(tmp_path)
    full, data, sla = tmp_path / "full", tmp_path / "data", tmp_path / "sla"
    generate(full, contacts=600, seed=5, start=date(2026, 4, 1), end=date(2026, 7, 5), fmt="parquet")
    shutil.copytree(ROOT / "sla", sla)
    for path in sla.glob("*.yaml"):  # only the log channel: nothing to fail, every alert recorded
        path.write_text("".join(line for line in path.read_text().splitlines(keepends=True)
                                if "channel: slack" not in line and "channel: email" not in line))
    modes: list[str] = []
    real_load = load_module.load_data_dir

    def recording_load(*args, **kwargs):
        report = real_load(*args, **kwargs)
        modes.append(report.mode)
        return report

    monkeypatch.setattr(load_module, "load_data_dir", recording_load)

    daily = use(monkeypatch, tmp_path / "daily", data, sla)
    runs, previous = [], None
    for day in DAYS:
        land(full, data, "history" if previous is None else day.isoformat(), previous, morning(day))
        if day == DAYS[1]:
            # A corrected part replaces an earlier one (docs/data.md: a full reload).
            part = data / "lifecycle_events" / "history.parquet"
            fixed = part.with_suffix(".fixed")
            with duckdb.connect() as con:
                rows = con.execute(f"select count(*) from read_parquet('{part}')").fetchone()[0]
                con.execute(f"copy (select * from read_parquet('{part}') limit {rows - 1}) to '{fixed}' "
                            "(format parquet)")
            os.replace(fixed, part)
        if day == DAYS[2]:
            # A pull request sets July's MQL target of the revision in force; the day's parts
            # are appended to the reloaded warehouse.
            h2 = sla / "acme-2026-h2.yaml"
            h2.write_text(h2.read_text().replace("  handoff:", "  targets:\n    2026-07: {mql: 20}\n  handoff:", 1))
        runs.append(invoke("run", "--as-of", morning(day).isoformat()))
        previous = morning(day)
    assert modes == ["full", "full", "incremental"]
    assert runs[1]["months"][-2:] == ["2026-06", "2026-07"]
    assert {r["revision"] for r in runs[1]["results"]} == {"2026-h1", "2026-h2"}
    assert [r["target"] for r in runs[-1]["results"] if (r["period"], r["kpi"]) == ("2026-07", "volume:mql")] == [20]

    # One fresh warehouse, judged once, as of the last morning over the same files.
    months = runs[-1]["months"]
    fresh = use(monkeypatch, tmp_path / "fresh", data, sla)
    backfill = invoke("backfill", "--from", months[0], "--to", months[-1], "--as-of", morning(DAYS[-1]).isoformat())
    assert backfill["results"] == runs[-1]["results"]
    assert state(daily, months) == state(fresh, months)

    # Each status change announced once, by docs/alerts.md's table, and nothing else.
    announced: dict[tuple[str, str], str] = {}
    expected = []
    for run in runs:
        for r in run["results"]:
            key, status = (r["period"], r["kpi"]), r["status"]
            kind = (status if status in ALERTING and announced.get(key) != status
                    else "recovered" if status == "met" and announced.get(key) in ALERTING else None)
            if kind:
                expected.append((kind, *key))
                announced[key] = status
    with closing(sqlite3.connect(tmp_path / "daily" / "alerts.sqlite")) as con:
        actual = con.execute("select kind, period, kpi from alerts order by id").fetchall()
    assert {kind for kind, *_ in expected} >= {"breach", "at_risk"}
    assert sorted(actual) == sorted(expected)
