"""How the review pack writes a month's revenue target beside the figures that make it."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from pipelines.agreement import load_agreements
from pipelines.agreement.plan import plan_agreement
from pipelines.report.format import revenue_target

ROOT = Path(__file__).resolve().parents[2]
PLANS = {p.period: p for a in load_agreements(ROOT / "sla") for p in plan_agreement(a)}


@pytest.mark.parametrize(("month", "text"), [
    # 9.68 × 12,000 is 116,160 and 8.33 × 12,000 is 99,960: the shown figures are rounded.
    ("2026-10", "USD 116,129 (≈ 9.68 customers × USD 12,000)"),
    ("2026-02", "USD 100,000 (≈ 8.33 customers × USD 12,000)"),
    ("2026-06", "USD 120,000 (10.00 customers × USD 12,000)"),
], ids=["a month of 116,129.03 is about 9.68 customers", "a third of a customer is rounded",
        "10 customers multiply out exactly"])
def test_the_revenue_target_says_when_its_shown_figures_only_approximately_multiply_out(month, text):
    plan = PLANS[month]
    assert revenue_target(plan.revenue, plan.customers, Decimal(12000), "USD") == text


def test_a_fraction_of_a_customer_shown_whole_multiplies_out_without_approximation():
    assert revenue_target(Fraction(102000), Fraction(17, 2), Decimal(12000), "EUR") == (
        "EUR 102,000 (8.50 customers × EUR 12,000)")


@pytest.mark.parametrize("kpi, target, actual, shown", [
    ("handoff:first_touch", 0.9, 0.8996, ("90.00%", "89.96%")),
    ("conversion:lead->mql", 0.3, 0.29999, ("30.000%", "29.999%")),
    ("revenue", 100000, 99999.6, ("USD 100,000.00", "USD 99,999.60")),
    ("volume:mql", 150, 150, ("150", "150")),
    ("handoff:first_touch", 0.9, 0.855, ("90.0%", "85.5%")),
    ("handoff:first_touch", 0.9, None, ("90.0%", "—")),
])
def test_a_target_and_actual_that_differ_never_read_the_same(kpi, target, actual, shown) -> None:
    """"90.0%" beside "90.0%" and a breach: the report's scorecard read as a tie."""
    from pipelines.report.format import target_and_actual

    assert target_and_actual(kpi, target, actual, "USD") == shown


@pytest.mark.parametrize("first, months, years", [
    ("2026-01", 12, []),  # one year: no row of years
    ("2026-07", 12, ["2026", "2027"]),  # July to June: each year under its first month
    ("2026-12", 24, ["2027", "2028"]),  # December, then January 13 px on: the later year alone fits
    ("2026-10", 24, ["2026", "2027", "2028"]),
])
def test_a_trend_over_more_than_a_year_names_each_year_under_its_first_month(first, months, years) -> None:
    """Two years of revisions read "… Dec Jan Feb …", "Jan" twice, and nothing said which year."""
    import re

    from pipelines.agreement.months import add_months
    from pipelines.report import svg

    points = [svg.Point(add_months(first, i), 100.0, 120.0, "met") for i in range(months)]
    drawn = svg.columns(points, "trend", str)
    assert re.findall(r'class="axis year"[^>]*>(\d{4})<', drawn) == years


@pytest.mark.parametrize("chart", ["columns", "lines"])
def test_a_trend_chart_names_its_months_on_the_axis_and_keeps_the_year_under_january(chart) -> None:
    """The axis read "07 08 09 10 11 12 01 …": numbers, on a chart whose other axis is a quantity."""
    import re

    from pipelines.agreement.months import add_months
    from pipelines.report import svg

    points = [svg.Point(add_months("2026-07", i), 100.0, 120.0, "met") for i in range(12)]
    drawn = getattr(svg, chart)(points, "trend", str)
    assert re.findall(r'class="axis" text-anchor="middle">([^<]+)<', drawn) == [
        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Jan", "Feb", "Mar", "Apr", "May", "Jun"], drawn
    # Each year is drawn with the month it is written under: 2027 under Jan, 2026 under the first month.
    assert re.findall(r'middle">(\w+)</text><text [^>]*class="axis year"[^>]*>(\d{4})<', drawn) == [
        ("Jul", "2026"), ("Jan", "2027")], drawn
    # Two years in 304 px: every second month is named, by name still.
    points = [svg.Point(add_months("2026-01", i), 100.0, 120.0, "met") for i in range(24)]
    assert re.findall(r'class="axis" text-anchor="middle">([^<]+)<', getattr(svg, chart)(points, "trend", str)) == [
        "Jan", "Mar", "May", "Jul", "Sep", "Nov"] * 2


@pytest.mark.parametrize("rate, labels", [
    (0.0238, ["0%", "1.25%", "2.5%"]),  # the decimals a gridline has, no more
    (12.0, ["0%", "750%", "1,500%"]),
    (12_000.0, ["0%", "750,000%", "1,500,000%"]),  # not "1.5e+06%"
])
def test_a_conversion_chart_s_axis_groups_the_thousands_of_its_percentages(rate, labels) -> None:
    """A period conversion's chart read "1500%" on its axis beside "1,200.0%" in its table."""
    import re

    from pipelines.report import svg
    from pipelines.report.sections import _axis_percent

    points = [svg.Point(f"2026-0{m}", rate, rate / 2, "met") for m in range(1, 4)]
    drawn = svg.lines(points, "conversion", _axis_percent)
    assert re.findall(r'class="axis" text-anchor="end">([^<]+)<', drawn) == labels, drawn
