"""A month on pace for exactly its bound is provisional, not at risk: the pace forecast
(actual × days in month ÷ days elapsed, SPEC §4) rounds once, from the exact figure.

In doubles the product rounded before the division did: 1000.05 × 31 ÷ 10 gave
3100.1549999999997 and 20.7 × 31 ÷ 10 gave 64.16999999999999, each below a bound they meet
exactly, so the checks judged both at_risk.

March 2026 in New York (summer time from March 8), as of 2026-03-11 04:00 UTC, local midnight:
10 of March's 31 days have elapsed, the 23-hour March 8 counting as one. By then: a won deal of
1000.05 and 9 MQLs of persona data_leader, weighing 2.3 each (20.7). Two agreements judge the
same data: `onpace` with bounds equal to the forecasts (revenue 3100.155, tolerance 0; 69 MQLs
less 7 % = 64.17 weighted), `short` with bounds a little above them.
"""

from __future__ import annotations

import textwrap
from fractions import Fraction
from pathlib import Path

import pytest

from pipelines.agreement import known_stage_values, load_agreements
from pipelines.checks.validate import judge
from pipelines.data.load import load_data_dir
from pipelines.warehouse.agreement_tables import write_agreement_tables

pytestmark = pytest.mark.slow

AS_OF = "2026-03-11 04:00:00"


def agreement(name: str, goal: str, weighted_tolerance: str) -> str:
    # A deal size of the whole goal is one customer; a rate of 0.0145 makes that 69 MQLs.
    return textwrap.dedent(f"""\
        apiVersion: funnelpact/v1
        kind: Agreement
        metadata: {{name: {name}, revision: r1, owners: {{marketing: {{name: M}}, sales: {{name: S}}}}}}
        spec:
          effective: {{from: 2026-03, to: 2026-03}}
          timezone: America/New_York
          currency: USD
          revenue_goal: {goal}
          average_deal_size: {goal}
          stages:
            - {{id: mql, label: MQL, owner: shared}}
            - {{id: customer, label: Customers, owner: sales}}
          conversion:
            mql->customer: {{rate: 0.0145}}
          lead_value:
            persona: {{data_leader: 2.3}}
          kpis:
            weighted_volume: {{tolerance: {weighted_tolerance}}}
        """)


def write_data(data: Path, amount: str) -> None:
    data.mkdir()
    mqls = [f"C{i}" for i in range(9)]
    (data / "contacts.csv").write_text("contact_id,created_at,persona\n" + "".join(
        f"{c},2026-03-02T15:00:00Z,data_leader\n" for c in mqls))
    (data / "lifecycle_events.csv").write_text("contact_id,stage,occurred_at\n" + "".join(
        f"{c},mql,2026-03-0{2 + i % 7}T15:00:00Z\n" for i, c in enumerate(mqls)))
    (data / "deals.csv").write_text(
        "deal_id,contact_id,created_at,closed_at,status,amount,currency\n"
        f"D1,C0,2026-03-02T15:00:00Z,2026-03-05T15:00:00Z,won,{amount},USD\n")


@pytest.mark.parametrize(("amount", "on_pace", "short"), [
    ("1000.05", "3100.155", "3100.16"),
    # From a million up too (the exact formula holds below 10^12): 1000000.07 x 31 / 10 gave
    # 3100000.2169999997 in doubles.
    ("1000000.07", "3100000.217", "3100000.22"),
])
def test_a_forecast_exactly_on_its_bound_is_provisional_and_a_bound_above_it_at_risk(
        warehouse, tmp_path, amount, on_pace, short):
    sla = tmp_path / "sla"
    sla.mkdir()
    (sla / "onpace.yaml").write_text(agreement("onpace", on_pace, "0.07"))
    (sla / "short.yaml").write_text(agreement("short", short, "0.0699"))
    agreements = load_agreements(sla)
    write_data(tmp_path / "data", amount)
    with warehouse.connect() as con:
        write_agreement_tables(con, agreements)
        load_data_dir(tmp_path / "data", con, known_stage_values(agreements))

    warehouse.dbt("build", as_of=AS_OF, select=["+scorecard"], exclude=["resource_type:unit_test"])

    targets = {(r["agreement"], r["kpi"]): r["target"] for r in warehouse.query(
        "select agreement, kpi, target from marts.targets where kpi in ('revenue', 'weighted_volume:mql')")}
    assert targets == {("onpace", "revenue"): float(on_pace), ("onpace", "weighted_volume:mql"): 69.0,
                       ("short", "revenue"): float(short), ("short", "weighted_volume:mql"): 69.0}

    rows = {(r["agreement"], r["kpi"]): r for r in warehouse.query(
        "select agreement, kpi, actual, forecast, days_elapsed, days_in_month from marts.scorecard "
        "where kpi in ('revenue', 'weighted_volume:mql')")}
    revenue, weighted = rows[("onpace", "revenue")], rows[("onpace", "weighted_volume:mql")]
    assert (revenue["days_elapsed"], revenue["days_in_month"]) == (10.0, 31)
    assert (revenue["actual"], weighted["actual"]) == (float(amount), 20.7)
    assert revenue["forecast"] == float(Fraction(amount) * 31 / 10) == float(on_pace)
    assert weighted["forecast"] == float(Fraction("20.7") * 31 / 10) == 64.17

    with warehouse.connect(read_only=True) as con:
        results = {(r.agreement, r.kpi): r for r in judge(con, agreements, ["2026-03"], AS_OF)}
    assert results[("onpace", "revenue")].threshold == float(on_pace)
    assert results[("onpace", "weighted_volume:mql")].threshold == 64.17
    assert results[("onpace", "revenue")].status == "provisional"
    assert results[("onpace", "weighted_volume:mql")].status == "provisional"
    assert results[("short", "revenue")].status == "at_risk"
    assert results[("short", "weighted_volume:mql")].status == "at_risk"
