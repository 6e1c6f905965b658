"""Rendering of the reverse-funnel plan as a table, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from fractions import Fraction

from rich.markup import escape
from rich.table import Table

from pipelines.agreement.model import Agreement
from pipelines.agreement.plan import PLAN_COLUMNS, MonthPlan, WindowPlan, rounded, rounded_decimal, rounded_visible
from pipelines.cli.output import Format, echo, print_table


def money(value: Fraction) -> float:
    return rounded(value, 2)


def ratio(value: Fraction) -> float:
    return rounded(value, 6)


def plan_json(months: list[MonthPlan], windows: list[WindowPlan]) -> dict:
    return {
        "months": [
            {
                "period": m.period,
                "agreement": m.agreement,
                "revision": m.revision,
                "revenue": money(m.revenue),
                "revenue_exact": str(m.revenue),
                "customers": ratio(m.customers),
                "customers_exact": str(m.customers),
                "targets": m.targets,
                "explicit": sorted(m.explicit),
            }
            for m in months
        ],
        "windows": [
            {
                "agreement": w.agreement,
                "revision": w.revision,
                "from": w.first,
                "to": w.last,
                "revenue": money(w.revenue),
                "revenue_exact": str(w.revenue),
                "customers": ratio(w.customers),
                "customers_exact": str(w.customers),
                "targets": w.targets,
            }
            for w in windows
        ],
    }


def emit(agreements: list[Agreement], months: list[MonthPlan], windows: list[WindowPlan], fmt: Format) -> None:
    if fmt is Format.json:
        echo(json.dumps(plan_json(months, windows), indent=2))
    elif fmt is Format.csv:
        echo(plan_csv(months), nl=False)
    else:
        for a in agreements:
            mine = [m for m in months if (m.agreement, m.revision) == (a.name, a.revision)]
            if mine:
                window = next((w for w in windows if (w.agreement, w.revision) == (a.name, a.revision)), None)
                print_table(plan_table(a, mine, window))


def plan_csv(months: list[MonthPlan]) -> str:
    stages: list[str] = []
    for m in months:
        stages += [s for s in m.targets if s not in stages]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*PLAN_COLUMNS, *stages])
    for m in months:
        writer.writerow([m.period, m.agreement, m.revision, rounded_decimal(m.revenue, 2), f"{rounded_visible(m.customers, 6):f}",
                         *(m.targets.get(s, "") for s in stages)])
    return out.getvalue()


def plan_table(a: Agreement, months: list[MonthPlan], window: WindowPlan | None) -> Table:
    explicit = any(m.explicit for m in months)
    table = Table(
        title=f"{escape(a.name)} {escape(a.revision)}: {a.spec.effective.from_}..{a.spec.effective.to} ({a.spec.currency}, {a.spec.timezone})",
        caption=("* explicit target from the agreement; other volumes are derived and rounded up" if explicit
                 else "volumes are derived from the goal and the rates, rounded up"),
    )
    table.add_column("month")
    table.add_column("revenue", justify="right")
    table.add_column("customers", justify="right")
    for stage in a.spec.stages:
        table.add_column(stage.id, justify="right")
    for m in months:
        table.add_row(
            m.period,
            f"{rounded_decimal(m.revenue, 2):,}",
            f"{rounded_visible(m.customers, 2):,f}",
            *(f"{m.targets[s.id]:,}{'*' if s.id in m.explicit else ''}" for s in a.spec.stages),
        )
    if window:
        table.add_section()
        table.add_row(
            "[bold]window[/]", f"{rounded_decimal(window.revenue, 2):,}", f"{rounded_visible(window.customers, 2):,f}",
            *(f"{window.targets[s.id]:,}" for s in a.spec.stages),
        )
    return table
