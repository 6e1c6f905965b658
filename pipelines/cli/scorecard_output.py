"""The judged scorecard for people (a table per team) and for machines (JSON, SPEC §7)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from pipelines.agreement.figure_text import kpi_figure, target_and_actual
from pipelines.cli.output import TITLE_SEPARATOR, console, print_table, too_narrow, unruled
from pipelines.warehouse.summary import unknown_stage_values_text

TEAMS = ("marketing", "sales", "shared")
# Words as well as colours: the table must read without colour (CI logs, printouts).
STATUS_STYLE = {
    "met": "green",
    "breach": "bold red",
    "at_risk": "yellow",
    "provisional": "cyan",
    "no_data": "dim",
}
PUBLIC_FIELDS = ("period", "kpi", "owner", "target", "actual", "forecast", "status", "severity",
                 "tolerance", "agreement", "revision")


def scorecard_json(as_of: datetime, months: list[str], results: list[dict[str, Any]],
                   data_quality: dict, run_id: str | None, warnings: list[str]) -> str:
    return json.dumps({
        "as_of": as_of.isoformat(),
        "months": months,
        "run_id": run_id,
        "results": [{k: r.get(k) for k in PUBLIC_FIELDS} for r in results],
        "data_quality": data_quality,
        "warnings": warnings,
    }, indent=2, default=str)


def _cell(kpi: str, value: float | None) -> str:
    return "—" if value is None else kpi_figure(kpi, value)


# Columns that often hold one value for a whole team's table (one month judged, one agreement,
# one revision, one severity): at a terminal too narrow for the table they move into its title,
# in these words, rather than fold every KPI id over three lines.
_TITLE_COLUMNS = {"month": "{}", "agreement": "{}", "revision": "revision {}", "severity": "severity {}"}


def print_scorecard(results: list[dict[str, Any]], data_quality: dict, as_of: datetime) -> None:
    # Two agreements in one folder judge the same months with their own targets (and often
    # revisions of the same label, `2026`): the revision alone does not say whose row it is.
    several = len({r.get("agreement") for r in results}) > 1
    columns = ("month", "KPI", "target", "actual", "forecast", "status", "severity",
               *(("agreement",) if several else ()), "revision")
    for team in TEAMS:
        rows = [r for r in results if r["owner"] == team]
        if not rows:
            continue
        cells = [dict(zip(columns, (
            r["period"], r["kpi"], *target_and_actual(r["kpi"], r["target"], r["actual"]),
            _cell(r["kpi"], r.get("forecast")), f"[{STATUS_STYLE.get(r['status'], '')}]{r['status']}[/]",
            r["severity"], *((escape(r["agreement"]),) if several else ()), escape(r["revision"])))) for r in rows]
        title = f"{team} — as of {as_of:%Y-%m-%d %H:%M} UTC"
        layouts = [_table(title, columns, cells), *_narrow(title, columns, cells)]
        # Several agreements or revisions (two agreements, months either side of a new
        # revision) share too few columns to fit: at 80 columns every KPI id still folded. One
        # table for each, whose title says whose it is, then does.
        groups: dict[tuple[str, str], list[dict[str, str]]] = {}
        for row in cells:
            groups.setdefault((row.get("agreement", ""), row["revision"]), []).append(row)
        if len(groups) > 1 and too_narrow(*layouts):
            for group in groups.values():
                print_table(*_narrow(title, columns, group))
        else:
            print_table(*layouts)
    counts: dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    console.print("statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    dq = data_quality
    reasons = ", ".join(f"{k} {v}" for k, v in dq["by_reason"].items()) or "none"
    console.print(f"data quality: {dq['quarantined_rows']} rows quarantined ({reasons}); "
                  f"{dq['duplicate_rows']} duplicate rows removed")
    if unknown := dq.get("unknown_stage_values"):
        console.print(f"  unknown_stage: lifecycle values no agreement lists: {escape(unknown_stage_values_text(unknown))}; "
                      "list one in a stage's crm_values if it means a stage, or in ignored_crm_values if none (docs/agreement.md)")


def _narrow(title: str, columns: tuple[str, ...], cells: list[dict[str, str]]) -> list[Table]:
    """The narrower layouts of a team's table: what every row shares in its title, without a
    forecast column of dashes; then without column rules."""
    same = [c for c in _TITLE_COLUMNS if c in columns and len({row[c] for row in cells}) == 1]
    narrow_title = TITLE_SEPARATOR.join([title, *(_TITLE_COLUMNS[c].format(cells[0][c]) for c in same)])
    # A forecast column of dashes says nothing: no month of the table is at risk.
    narrow = [c for c in columns if c not in same and not (c == "forecast" and {row[c] for row in cells} == {"—"})]
    return [_table(narrow_title, narrow, cells), unruled(_table(narrow_title, narrow, cells))]


def _table(title: str, columns: list[str] | tuple[str, ...], cells: list[dict[str, str]]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, justify="right" if column in ("target", "actual", "forecast") else "left")
    for row in cells:
        table.add_row(*(row[c] for c in columns))
    return table


def exit_for(results: list[dict[str, Any]]) -> None:
    """Exit with the run's code (SPEC §7): 1 when a fail-severity target is breached."""
    from pipelines.checks.validate import exit_code

    if exit_code(results):
        raise typer.Exit(1)
