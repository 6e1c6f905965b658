"""The bottleneck attribution: a hand-worked month, and the identity it rests on."""

from __future__ import annotations

from fractions import Fraction

import pytest

from pipelines.report.bottleneck import attribute
from pipelines.report.format import money

STAGES = ["lead", "mql", "sql", "customer"]
RATES = {("lead", "mql"): Fraction(1, 2), ("mql", "sql"): Fraction(1, 2), ("sql", "customer"): Fraction(1, 4)}


def test_a_hand_worked_month_names_the_step_that_lost_most_customers():
    # Plan: 10 customers of 1,000 -> sql 40, mql 80, lead 160 (M: lead 1/16, mql 1/8, sql 1/4).
    # Actual: 160 leads (on plan), 60 MQLs (80 expected), 36 SQLs (30 expected), 6 customers (9 expected).
    result = attribute(STAGES, RATES, {"lead": 160, "mql": 60, "sql": 36, "customer": 6},
                       Fraction(10), Fraction(1000), revenue_actual=5000.0)
    lost = {(loss.from_stage, loss.stage_id): loss.customers_lost for loss in result.losses}
    assert lost == {(None, "lead"): 0.0, ("lead", "mql"): 2.5, ("mql", "sql"): -1.5, ("sql", "customer"): 3.0}
    assert result.worst.stage_id == "customer" and result.worst.revenue_lost == 3000.0
    # 6 customers at a 1,000 deal size would be 6,000; 5,000 was won.
    assert result.deal_size_and_timing == 1000.0
    assert result.revenue_gap == 5000.0


@pytest.mark.parametrize("volumes", [
    {"lead": 100, "mql": 70, "sql": 20, "customer": 9},
    {"lead": 400, "mql": 90, "sql": 50, "customer": 0},
    {"lead": 0, "mql": 0, "sql": 0, "customer": 0},
    {"lead": 161.5, "mql": 80.25, "sql": 40, "customer": 10},
], ids=["mixed", "no customers", "empty month", "fractional pace"])
def test_the_losses_add_up_to_the_revenue_gap_exactly(volumes):
    result = attribute(STAGES, RATES, volumes, Fraction(10), Fraction(1000), revenue_actual=7250.0)
    total = sum(loss.revenue_lost for loss in result.losses) + result.deal_size_and_timing
    assert total == result.revenue_gap


def test_money_stays_exact_where_a_double_has_no_cents():
    # A deal size of 10^15 + 0.49: one customer lost is exactly that. As a double it is
    # 10^15 + 0.5 (doubles there are 0.125 apart), which the pack's half-up rounding read
    # as one more whole unit than the exact figure.
    deal = Fraction(10**17 + 49, 100)
    result = attribute(["sql", "customer"], {("sql", "customer"): Fraction(1, 2)}, {"sql": 4, "customer": 1},
                       Fraction(2), deal, revenue_actual=0.0)
    assert result.worst.revenue_lost == deal
    assert result.revenue_gap == 2 * deal and result.deal_size_and_timing == deal
    assert money(result.worst.revenue_lost, "USD") == "USD 1,000,000,000,000,000"
    assert money(result.revenue_gap, "USD") == "USD 2,000,000,000,000,001"


def test_a_month_on_plan_or_better_has_no_bottleneck():
    result = attribute(STAGES, RATES, {"lead": 200, "mql": 100, "sql": 50, "customer": 13},
                       Fraction(10), Fraction(1000), revenue_actual=None)
    assert result.worst is None and result.revenue_gap is None and result.deal_size_and_timing is None


def test_the_walk_starts_at_the_first_measured_stage():
    stages = ["visit", *STAGES]
    rates = {("visit", "lead"): Fraction(1, 50), **RATES}
    result = attribute(stages, rates, {"visit": None, "lead": 160, "mql": 80, "sql": 40, "customer": 10},
                       Fraction(10), Fraction(1000), 10000.0)
    assert [loss.stage_id for loss in result.losses] == STAGES


def test_a_gap_below_the_top_makes_it_not_computable():
    assert attribute(STAGES, RATES, {"lead": 160, "mql": None, "sql": 40, "customer": 10},
                     Fraction(10), Fraction(1000), 0.0) is None
