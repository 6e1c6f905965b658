"""Rendering of the reverse-funnel plan as a table, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from fractions import Fraction

from rich.markup import escape
from rich.table import Table

from pipelines.agreement.model import Agreement
from pipelines.agreement.plan import PLAN_COLUMNS, PLAN_COLUMNS_LAST, MonthPlan, WindowPlan, rounded, rounded_decimal, rounded_visible
from pipelines.cli.output import Format, echo, print_table, unruled


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
                "currency": m.currency,
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
                "currency": w.currency,
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
                print_table(plan_table(a, mine, window), plan_table(a, mine, window, ruled=False),
                            plan_table(a, mine, window, ruled=False, customers=False))


def plan_csv(months: list[MonthPlan]) -> str:
    stages: list[str] = []
    for m in months:
        stages += [s for s in m.targets if s not in stages]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*PLAN_COLUMNS, *stages, *PLAN_COLUMNS_LAST])
    for m in months:
        writer.writerow([m.period, m.agreement, m.revision, rounded_decimal(m.revenue, 2), f"{rounded_visible(m.customers, 6):f}",
                         *(m.targets.get(s, "") for s in stages), m.currency])
    return out.getvalue()


def plan_table(a: Agreement, months: list[MonthPlan], window: WindowPlan | None, *, ruled: bool = True,
               customers: bool = True) -> Table:
    """The plan of one revision. At a terminal too narrow for it, the plan is drawn without
    `ruled` columns, then also without the `customers` column, which is the revenue ÷ the deal
    size (a 6-stage funnel with monthly revenue in the millions: 101, 89, then 78 columns):
    a figure folded over two lines reads as two figures."""
    explicit = any(m.explicit for m in months)
    notes = ["* explicit target from the agreement; other volumes are derived and rounded up" if explicit
             else "volumes are derived from the goal and the rates, rounded up"]
    if not customers:
        notes.append(f"customers = revenue ÷ {a.spec.currency} {a.spec.average_deal_size:,f} (the deal size)")
    table = Table(
        title=f"{escape(a.name)} {escape(a.revision)}: {a.spec.effective.from_}..{a.spec.effective.to} ({a.spec.currency}, {a.spec.timezone})",
        caption="\n".join(notes),
    )
    if not ruled:
        unruled(table)
    table.add_column("month")
    table.add_column("revenue", justify="right")
    if customers:
        table.add_column("customers", justify="right")
    for stage in a.spec.stages:
        table.add_column(stage.id, justify="right")

    def shown(customers_value: Fraction) -> list[str]:
        return [f"{rounded_visible(customers_value, 2):,f}"] if customers else []

    for m in months:
        table.add_row(
            m.period,
            f"{rounded_decimal(m.revenue, 2):,}",
            *shown(m.customers),
            *(f"{m.targets[s.id]:,}{'*' if s.id in m.explicit else ''}" for s in a.spec.stages),
        )
    if window:
        table.add_section()
        table.add_row(
            "[bold]window[/]", f"{rounded_decimal(window.revenue, 2):,}", *shown(window.customers),
            *(f"{window.targets[s.id]:,}" for s in a.spec.stages),
        )
    return table
