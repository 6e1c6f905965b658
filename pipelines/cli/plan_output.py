"""Rendering of the reverse-funnel plan as a table, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from fractions import Fraction
from functools import cache
from itertools import combinations

from rich.markup import escape
from rich.table import Table

from pipelines.agreement.figure_text import kpi_figure
from pipelines.agreement.model import Agreement, Stage
from pipelines.agreement.plan import PLAN_COLUMNS, PLAN_COLUMNS_LAST, MonthPlan, WindowPlan, rounded, rounded_decimal, rounded_visible
from pipelines.cli.output import Format, echo, print_table, too_narrow, unruled


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
                layouts = [plan_table(a, mine, window), plan_table(a, mine, window, ruled=False),
                           plan_table(a, mine, window, ruled=False, customers=False)]
                if too_narrow(*layouts):
                    for stages in _stage_groups(a, mine, window):
                        # As wide as the terminal, each: the title and the notes fit, and the
                        # months line up from one table to the next.
                        table = plan_table(a, mine, window, ruled=False, customers=False, stages=stages)
                        table.expand = True
                        print_table(table)
                else:
                    print_table(*layouts)


def _stage_groups(a: Agreement, months: list[MonthPlan], window: WindowPlan | None) -> list[list[Stage]]:
    """The stages in as few runs as fit the terminal beside the month (and, in the first, the
    revenue), as even as can be: a funnel of ten stages is too wide for 80 columns in any
    layout, and a figure folded over two lines reads as two figures."""
    stages = a.spec.stages

    @cache  # a run of stages is in many splits: its table is drawn and measured once
    def fits(i: int, j: int) -> bool:
        return not too_narrow(plan_table(a, months, window, ruled=False, customers=False, stages=stages[i:j]))

    for n in range(2, len(stages) + 1):
        splits = [list(zip((0, *cuts), (*cuts, len(stages)))) for cuts in combinations(range(1, len(stages)), n - 1)]
        fitting = [runs for runs in splits if all(fits(i, j) for i, j in runs)]
        if fitting:
            runs = min(fitting, key=lambda runs: max(j - i for i, j in runs) - min(j - i for i, j in runs))
            return [stages[i:j] for i, j in runs]
    return [[stage] for stage in stages]  # one stage still too wide: print_table folds its cells


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
               customers: bool = True, stages: list[Stage] | None = None, revenue: bool | None = None) -> Table:
    """The plan of one revision. At a terminal too narrow for it, the plan is drawn without
    `ruled` columns, then also without the `customers` column, which is the revenue ÷ the deal
    size (a 6-stage funnel with monthly revenue in the millions: 99, 87, then 76 columns):
    a figure folded over two lines reads as two figures. Still too wide, it is drawn as
    tables of some of the `stages` each, the first with the `revenue` (by default, the table
    that holds the first stage)."""
    first = a.spec.stages[0]
    stages = a.spec.stages if stages is None else stages
    revenue = stages[0] is first if revenue is None else revenue
    part = ("" if len(stages) == len(a.spec.stages) else f" · stage {stages[0].id}" if len(stages) == 1
            else f" · stages {stages[0].id}..{stages[-1].id}")
    explicit = any(m.explicit for m in months)
    notes = ["* explicit target from the agreement; other volumes are derived and rounded up" if explicit
             else "volumes are derived from the goal and the rates, rounded up"]
    if not customers and revenue:
        notes.append(f"customers = revenue ÷ {a.spec.currency} {a.spec.average_deal_size:,f} (the deal size)")
    table = Table(
        title=f"{escape(a.name)} {escape(a.revision)}: {a.spec.effective.from_}..{a.spec.effective.to} "
              f"({a.spec.currency}, {a.spec.timezone}){part}",
        caption="\n".join(notes),
    )
    if not ruled:
        unruled(table)
    table.add_column("month")
    if revenue:
        table.add_column("revenue", justify="right")
    if customers:
        table.add_column("customers", justify="right")
    for stage in stages:
        table.add_column(stage.id, justify="right")

    def money_columns(revenue_value: Fraction, customers_value: Fraction) -> list[str]:
        # The revenue in whole units, as the scorecard, the pack and the alerts show it: a goal is
        # agreed in thousands, and 83,333.33 beside a scorecard's 83,333 read as two targets.
        # JSON and CSV keep the cents (SPEC §7).
        return ([kpi_figure("revenue", revenue_value)] if revenue else []) + \
            ([f"{rounded_visible(customers_value, 2):,f}"] if customers else [])

    for m in months:
        table.add_row(
            m.period,
            *money_columns(m.revenue, m.customers),
            *(f"{m.targets[s.id]:,}{'*' if s.id in m.explicit else ''}" for s in stages),
        )
    if window:
        table.add_section()
        table.add_row(
            "[bold]window[/]", *money_columns(window.revenue, window.customers),
            *(f"{window.targets[s.id]:,}" for s in stages),
        )
    return table
