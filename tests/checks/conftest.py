"""Test scorecards: `marts.scorecard` tables with exactly the mart's columns, built from the
agreements' own targets, so each test changes only the rows it is about."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from pipelines.agreement import load_agreements
from pipelines.agreement.kpis import kpi_targets
from pipelines.agreement.model import Agreement
from pipelines.agreement.months import days_in_month

ROOT = Path(__file__).resolve().parents[2]
SLA = ROOT / "sla"

# The columns of marts.scorecard that pipelines.checks relies on (the mart adds final_at, as_of).
COLUMNS = {
    "period": "varchar", "kpi": "varchar", "owner": "varchar", "target": "double",
    "actual": "double", "direction": "varchar", "forecast": "double", "is_final": "boolean",
    "has_data": "boolean", "days_elapsed": "double", "days_in_month": "integer",
    "tolerance": "double", "severity": "varchar", "agreement": "varchar", "revision": "varchar",
}

PACED = ("volume:", "weighted_volume:", "revenue")


def scorecard_rows(agreements: list[Agreement], *, open_month: str | None = None,
                   open_elapsed: float = 10.0, upto: str | None = None) -> list[dict]:
    """Every KPI of every month (up to `upto`), on target: actual = target (0.5 when the KPI
    has none), final; `open_month` is open, `open_elapsed` days in, paced KPIs forecast."""
    rows = []
    for a in agreements:
        for t in kpi_targets(a):
            if upto is not None and t.period > upto:
                continue
            target = float(t.target) if t.target is not None else None
            days = days_in_month(t.period)
            is_open = t.period == open_month
            actual = target if target is not None else 0.5
            rows.append({
                "period": t.period, "kpi": t.kpi, "owner": t.owner, "target": target,
                "actual": actual, "direction": t.direction,
                "forecast": actual * days / open_elapsed if is_open and t.kpi.startswith(PACED) else None,
                "is_final": not is_open, "has_data": True,
                "days_elapsed": open_elapsed if is_open else float(days), "days_in_month": days,
                "tolerance": float(t.tolerance), "severity": t.severity,
                "agreement": t.agreement, "revision": t.revision,
            })
    return rows


def write_scorecard(con: duckdb.DuckDBPyConnection, rows: list[dict]) -> duckdb.DuckDBPyConnection:
    con.execute("create schema if not exists marts")
    cols = ", ".join(f'"{c}" {t}' for c, t in COLUMNS.items())
    con.execute(f"create or replace table marts.scorecard ({cols})")
    con.executemany(
        f"insert into marts.scorecard values ({', '.join('?' for _ in COLUMNS)})",
        [[r[c] for c in COLUMNS] for r in rows],
    )
    return con


def row(rows: list[dict], period: str, kpi: str) -> dict:
    (found,) = [r for r in rows if r["period"] == period and r["kpi"] == kpi]
    return found


@pytest.fixture(scope="session")
def agreements() -> list[Agreement]:
    return load_agreements(SLA)


@pytest.fixture
def scorecard(agreements) -> Callable[..., duckdb.DuckDBPyConnection]:
    """scorecard(edit) -> a connection whose marts.scorecard is on target, after `edit(rows)`."""
    def make(edit: Callable[[list[dict]], None] | None = None, **kwargs) -> duckdb.DuckDBPyConnection:
        rows = scorecard_rows(agreements, **kwargs)
        if edit:
            edit(rows)
        return write_scorecard(duckdb.connect(), rows)
    return make
