"""Golden tests of the reverse funnel (SPEC §4), worked out by hand from sla/ and a fixture.

acme 2026-h1: goal 600 000, deal 12 000 -> 50 customers; weights Jan 0.8, Jun 1.2, else 1
(sum 6). Rates from the bottom: opportunity->customer 0.33, sql->opportunity 0.5,
mql->sql 0.4, lead->mql 0.3, visit->lead 0.02, so one customer needs 1/0.33 opportunities,
1/0.165 SQLs, 1/0.066 MQLs, 1/0.0198 leads and 1/0.000396 visits.
  Jan: 80 000 -> 20/3 customers: 7, 20.2->21, 40.4->41, 101.01->102, 336.7->337, 16 835.02->16 836
  Feb, Apr, May: 100 000 -> 25/3: 9, 25.25->26, 50.5->51, 126.26->127, 420.9->421, 21 043.8->21 044
  Mar: as Feb, but the agreement sets mql to 150
  Jun: 120 000 -> 10: 10, 30.3->31, 60.6->61, 151.5->152, 505.05->506, 25 252.5->25 253
  window: 50: 50, 151.5->152, 303.03->304, 757.6->758, 2 525.25->2 526, 126 262.6->126 263
"""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from conftest import FIXTURES, ROOT
from pipelines.agreement import load_agreements
from pipelines.agreement.plan import plan, plan_agreement, plan_window, stage_multipliers
from pipelines.cli import app
from pipelines.cli.plan_output import plan_table

STAGES = ("visit", "lead", "mql", "sql", "opportunity", "customer")


def row(*values: int) -> dict[str, int]:
    return dict(zip(STAGES, values))


H1 = {
    "2026-01": (Fraction(80000), Fraction(20, 3), row(16836, 337, 102, 41, 21, 7)),
    "2026-02": (Fraction(100000), Fraction(25, 3), row(21044, 421, 127, 51, 26, 9)),
    "2026-03": (Fraction(100000), Fraction(25, 3), row(21044, 421, 150, 51, 26, 9)),
    "2026-04": (Fraction(100000), Fraction(25, 3), row(21044, 421, 127, 51, 26, 9)),
    "2026-05": (Fraction(100000), Fraction(25, 3), row(21044, 421, 127, 51, 26, 9)),
    "2026-06": (Fraction(120000), Fraction(10), row(25253, 506, 152, 61, 31, 10)),
}
# acme 2026-h2: goal 720 000 -> 60 customers; weights Aug 0.7, Nov 1.2, Dec 1.3, else 1 (sum 6.2);
# rates 0.02, 0.25, 0.5, 0.5, 0.33 -> multipliers 0.0004125, 0.020625, 0.0825, 0.165, 0.33.
H2 = {
    "2026-07": (Fraction(60, 1) / Fraction("6.2"), row(23461, 470, 118, 59, 30, 10)),   # 9.677 customers
    "2026-08": (Fraction(42, 1) / Fraction("6.2"), row(16423, 329, 83, 42, 21, 7)),     # 6.774
    "2026-12": (Fraction(78, 1) / Fraction("6.2"), row(30499, 610, 153, 77, 39, 13)),   # 12.581
}


@pytest.fixture(scope="module")
def acme():
    return {a.revision: a for a in load_agreements(ROOT / "sla")}


@pytest.fixture(scope="module")
def exact():
    (agreement,) = load_agreements(FIXTURES / "plan" / "exactly-120-mqls.yaml")
    return agreement


def test_rates_are_read_as_exact_decimals_not_floats(acme) -> None:
    rate = acme["2026-h1"].conversion_for("opportunity", "customer").rate
    assert isinstance(rate, Decimal) and rate == Decimal("0.33")
    assert stage_multipliers(acme["2026-h1"])["visit"] == Fraction("0.000396")


@pytest.mark.parametrize("month", sorted(H1))
def test_h1_monthly_revenue_customers_and_targets_match_the_hand_computation(acme, month: str) -> None:
    plans = {p.period: p for p in plan_agreement(acme["2026-h1"])}
    revenue, customers, targets = H1[month]
    assert plans[month].revenue == revenue
    assert plans[month].customers == customers
    assert plans[month].targets == targets


@pytest.mark.parametrize("month", sorted(H2))
def test_h2_seasonality_weights_split_the_goal(acme, month: str) -> None:
    plans = {p.period: p for p in plan_agreement(acme["2026-h2"])}
    customers, targets = H2[month]
    assert plans[month].customers == customers
    assert plans[month].targets == targets


def test_seasonal_revenues_add_up_to_the_goal_exactly(acme) -> None:
    for agreement in acme.values():
        assert sum(p.revenue for p in plan_agreement(agreement)) == Fraction(agreement.spec.revenue_goal)
    h2 = {p.period: p.revenue for p in plan_agreement(acme["2026-h2"])}
    # Weights 0.7 and 1.3 against 1: the shares of the goal, not rounded.
    assert h2["2026-08"] / h2["2026-07"] == Fraction(7, 10)
    assert h2["2026-12"] / h2["2026-07"] == Fraction(13, 10)


def test_an_explicit_target_replaces_only_the_derived_one_of_its_stage_and_month(acme) -> None:
    plans = {p.period: p for p in plan_agreement(acme["2026-h1"])}
    march, february = plans["2026-03"], plans["2026-02"]
    assert march.targets["mql"] == 150 and february.targets["mql"] == 127
    assert march.explicit == frozenset({"mql"}) and february.explicit == frozenset()
    assert {s: t for s, t in march.targets.items() if s != "mql"} == {
        s: t for s, t in february.targets.items() if s != "mql"
    }


def test_window_totals_come_from_the_goal_not_from_summed_monthly_ceilings(acme) -> None:
    h1 = acme["2026-h1"]
    window = plan_window(h1)
    assert (window.first, window.last, window.revenue, window.customers) == ("2026-01", "2026-06", 600000, 50)
    assert window.targets == row(126263, 2526, 758, 304, 152, 50)
    months = plan_agreement(h1)
    summed = {s: sum(p.targets[s] for p in months) for s in STAGES}
    # Rounding every month up first would ask for 3 customers and 2 visits more than the goal needs.
    assert summed["customer"] == 53 and summed["visit"] == 126265
    assert window.targets["customer"] < summed["customer"]
    assert window.targets["visit"] < summed["visit"]


def test_float_arithmetic_would_plan_121_mqls_where_exactly_120_are_needed(exact) -> None:
    # The float way of computing the same target rounds the wrong way...
    product = 1.0
    for rate in (0.25, 0.4, 0.3):  # opportunity->customer, sql->opportunity, mql->sql
        product *= rate
    assert math.ceil(36000 / 10000 / product) == 121
    # ...the planner does not.
    (month,) = plan_agreement(exact)
    assert month.customers == Fraction(18, 5)
    assert month.targets == row(8000, 400, 120, 36, 15, 4)
    assert plan_window(exact).targets["mql"] == 120


def test_plans_are_ordered_by_agreement_then_month(acme) -> None:
    periods = [p.period for p in plan(list(acme.values()))]
    assert periods == [f"2026-{m:02d}" for m in range(1, 13)]
    # Whatever order the revisions come in (files are read in directory order).
    assert [p.period for p in plan([acme["2026-h2"], acme["2026-h1"]])] == periods


# --- the command line ---------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_plan_json_lists_every_month_with_period_revenue_customers_and_targets(at_root) -> None:
    result = runner.invoke(app, ["plan", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    months = {m["period"]: m for m in data["months"]}
    assert sorted(months) == [f"2026-{m:02d}" for m in range(1, 13)]
    for period, (revenue, customers, targets) in H1.items():
        assert months[period]["revenue"] == float(revenue)
        assert months[period]["customers"] == pytest.approx(float(customers), abs=1e-6)
        assert months[period]["targets"] == targets
    assert months["2026-03"]["explicit"] == ["mql"]
    windows = {w["revision"]: w for w in data["windows"]}
    assert windows["2026-h1"]["targets"] == row(126263, 2526, 758, 304, 152, 50)


def test_plan_month_focuses_one_month(at_root) -> None:
    result = runner.invoke(app, ["plan", "--month", "2026-12", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [m["period"] for m in data["months"]] == ["2026-12"]
    assert data["months"][0]["targets"] == H2["2026-12"][1]
    assert data["months"][0]["revision"] == "2026-h2"


def test_plan_csv_has_a_header_and_one_row_per_month(at_root) -> None:
    result = runner.invoke(app, ["plan", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert len(rows) == 12
    january = rows[0]
    assert (january["period"], january["revenue"], january["customer"], january["visit"]) == (
        "2026-01", "80000.00", "7", "16836",
    )
    # Revenue to the cent and customers to six decimals (docs/agreement.md), whole ones too.
    assert [(r["customers"], r["revenue"]) for r in rows if r["period"] in ("2026-01", "2026-06")] == [
        ("6.666667", "80000.00"), ("10.000000", "120000.00")]


def test_plan_csv_and_json_say_each_revision_s_currency(funnelpact, tmp_path: Path) -> None:
    # A revenue of 100000.00 read bare: in what money was left to the reader to look up.
    for revision in ("h1", "h2"):
        text = (ROOT / "sla" / f"acme-2026-{revision}.yaml").read_text(encoding="utf-8")
        (tmp_path / f"{revision}.yaml").write_text(
            text.replace("currency: USD", "currency: EUR") if revision == "h2" else text, encoding="utf-8")
    currency = {"2026-h1": "USD", "2026-h2": "EUR"}
    run = funnelpact("plan", "--sla", tmp_path, "--format", "csv")
    assert run.code == 0, run.err
    header, *rows = list(csv.reader(io.StringIO(run.out)))
    # Appended: the columns a reader already picks by position keep their places.
    assert header == ["period", "agreement", "revision", "revenue", "customers", *STAGES, "currency"]
    assert {(r[2], r[-1]) for r in rows} == set(currency.items()) and len(rows) == 12
    run = funnelpact("plan", "--sla", tmp_path, "--format", "json")
    plan = json.loads(run.out)
    assert {(m["revision"], m["currency"]) for m in plan["months"]} == set(currency.items())
    assert {w["revision"]: w["currency"] for w in plan["windows"]} == currency


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_plan_warns_of_a_month_between_two_windows_on_stderr(funnelpact, tmp_path: Path, fmt: str) -> None:
    """H2 starting in August left July in no table and no row, with nothing said: a month that
    is never judged, read past in a plan of twelve rows."""
    for revision in ("h1", "h2"):
        text = (ROOT / "sla" / f"acme-2026-{revision}.yaml").read_text(encoding="utf-8")
        (tmp_path / f"{revision}.yaml").write_text(text.replace("from: 2026-07", "from: 2026-08"), encoding="utf-8")
    run = funnelpact("plan", "--sla", tmp_path, "--format", fmt)
    assert run.code == 0, run.err
    err = " ".join(run.err.split())
    assert err.startswith(f"warning {tmp_path / 'h2.yaml'}:13:3 spec.effective: no revision of acme is in force in 2026-07"), err
    assert "2026-07" not in run.out  # stdout stays the plan: JSON and CSV parse as before
    if fmt == "json":
        assert len(json.loads(run.out)["months"]) == 11
    whole = funnelpact("plan", "--sla", ROOT / "sla", "--format", fmt)
    assert whole.code == 0 and "warning" not in whole.err, whole.err


def test_plan_table_shows_explicit_targets_with_a_star_and_the_window_row(at_root) -> None:
    result = runner.invoke(app, ["plan", "--month", "2026-03"])
    assert result.exit_code == 0, result.output
    assert "2026-03" in result.output and "150*" in result.output and "21,044" in result.output
    assert "2026-02" not in result.output
    assert "* explicit target from the agreement" in result.output
    whole = runner.invoke(app, ["plan"])
    assert "window" in whole.output and "126,263" in whole.output


def test_the_plan_table_explains_a_star_only_when_it_shows_one(at_root) -> None:
    # February has no explicit target: the footnote explained a star the table did not show.
    result = runner.invoke(app, ["plan", "--month", "2026-02"])
    assert result.exit_code == 0, result.output
    assert "*" not in result.output and "explicit target" not in result.output
    assert "volumes are derived from the goal and the rates, rounded up" in " ".join(result.output.split())


def test_plan_of_the_float_trap_fixture_prints_120(at_root) -> None:
    result = runner.invoke(app, ["plan", "--sla", str(FIXTURES / "plan"), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["months"][0]["targets"]["mql"] == 120


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2026-3", "error --month: '2026-3' is not a month: expected YYYY-MM"),
        ("2027-03", "error --month: no agreement is in force in 2027-03 (windows: acme 2026-h1 2026-01..2026-06"),
    ],
    ids=["a month without its leading zero is bad input", "a month no revision covers is bad input"],
)
def test_plan_month_outside_every_window_exits_2(funnelpact, month: str, message: str) -> None:
    run = funnelpact("plan", "--month", month)
    assert run.code == 2
    assert run.err.startswith(message), run.err


def test_plan_of_an_invalid_agreement_exits_2_with_the_validation_message(funnelpact) -> None:
    run = funnelpact("plan", "--sla", FIXTURES / "invalid" / "rate-of-zero-is-not-a-rate.yaml")
    assert run.code == 2
    assert "spec.conversion.lead->mql.rate: 0 is not a rate" in run.err


def test_a_pair_written_with_spaces_around_the_arrow_plans_like_the_plain_pair(funnelpact, tmp_path) -> None:
    # validate has always read `lead -> mql` as the pair lead->mql; plan must find its rate too.
    plain = FIXTURES / "valid" / "minimal-agreement-relying-on-defaults.yaml"
    spaced = tmp_path / "spaced.yaml"
    spaced.write_text(plain.read_text(encoding="utf-8").replace("lead->mql:", "lead  ->  mql:"), encoding="utf-8")
    run = funnelpact("plan", "--sla", spaced, "--format", "json")
    assert run.code == 0, run.err
    expected = funnelpact("plan", "--sla", plain, "--format", "json")
    assert json.loads(run.out)["months"] == json.loads(expected.out)["months"]
    (agreement,) = load_agreements(spaced)
    assert list(agreement.spec.conversion)[1] == "lead->mql"


def test_the_plan_table_groups_thousands_of_customers_like_revenue_and_volumes(funnelpact, tmp_path: Path) -> None:
    # A goal of 1,000,000 at a deal size of 3 asks for 333,333.33 customers; the table printed
    # "333333.33" between "1,000,000.00" and "333,334".
    file = tmp_path / "small-deals.yaml"
    file.write_text((ROOT / "sla" / "acme-2026-h1.yaml").read_text(encoding="utf-8")
                    .replace("revenue_goal: 600000", "revenue_goal: 1000000")
                    .replace("average_deal_size: 12000", "average_deal_size: 3"), encoding="utf-8")
    run = funnelpact("plan", "--sla", file)
    assert run.code == 0, run.err
    window = next(line for line in run.out.splitlines() if "window" in line)
    assert "1,000,000 " in window and "333,333.33" in window and "333,334" in window, window


def test_a_revenue_of_half_a_cent_is_rounded_from_its_exact_value(funnelpact, tmp_path: Path) -> None:
    # A goal of 600 000.09 gives February exactly 100 000.015, which rounds half up to
    # 100 000.02; the double nearest it, 100 000.01499999999942, printed 100 000.01.
    file = tmp_path / "cents.yaml"
    file.write_text((ROOT / "sla" / "acme-2026-h1.yaml").read_text(encoding="utf-8")
                    .replace("revenue_goal: 600000", "revenue_goal: 600000.09"), encoding="utf-8")
    (february,) = [p for p in plan_agreement(load_agreements(file)[0]) if p.period == "2026-02"]
    assert february.revenue == Fraction("100000.015")
    run = funnelpact("plan", "--sla", file, "--format", "json")
    assert {m["period"]: m["revenue"] for m in json.loads(run.out)["months"]}["2026-02"] == 100000.02
    run = funnelpact("plan", "--sla", file, "--format", "csv")
    assert "2026-02,acme,2026-h1,100000.02," in run.out


def test_the_plan_table_shows_a_revenue_target_in_whole_units_as_the_scorecard_does(funnelpact, tmp_path: Path) -> None:
    # The table read 116,129.03 where the scorecard judging the same month read 116,129: two
    # targets, to whoever set them side by side. A goal of 600 003 also gives February exactly
    # 100 000.5, which rounds half up to 100,001 (the double's half to even read 100,000).
    from pipelines.cli.output import console
    from pipelines.cli.scorecard_output import print_scorecard

    file = tmp_path / "half.yaml"
    file.write_text((ROOT / "sla" / "acme-2026-h1.yaml").read_text(encoding="utf-8")
                    .replace("revenue_goal: 600000", "revenue_goal: 600003"), encoding="utf-8")
    months = [m for path in (file, ROOT / "sla" / "acme-2026-h2.yaml") for m in plan(load_agreements(path))]
    assert Fraction("100000.5") in {m.revenue for m in months}
    assert any(m.revenue.denominator not in (1, 2) for m in months)  # h2's months have cents
    for m in months:
        whole = math.floor(m.revenue + Fraction(1, 2))
        run = funnelpact("plan", "--sla", file if m.revision == "2026-h1" else ROOT / "sla" / "acme-2026-h2.yaml",
                         "--month", m.period)
        assert run.code == 0, run.err
        (line,) = [line for line in run.out.splitlines() if line.lstrip("│ ").startswith(m.period)]
        assert line.replace("│", " ").split()[1] == f"{whole:,}", line
        row = {"period": m.period, "kpi": "revenue", "owner": "sales", "target": float(m.revenue), "actual": None,
               "forecast": None, "status": "no_data", "severity": "fail", "revision": m.revision}
        with console.capture() as captured:
            print_scorecard([row], {"quarantined_rows": 0, "duplicate_rows": 0, "by_reason": {}}, datetime(2026, 12, 31, tzinfo=UTC))
        assert f" {whole:,} " in captured.get(), captured.get()
    # The machines' formats keep the cents (SPEC §7).
    run = funnelpact("plan", "--sla", ROOT / "sla" / "acme-2026-h2.yaml", "--month", "2026-07", "--format", "csv")
    assert "2026-07,acme,2026-h2,116129.03," in run.out


def test_a_revenue_too_small_for_whole_units_reads_in_cents_in_the_plan_table(funnelpact, tmp_path: Path) -> None:
    # figure_text never shows a sum that is not zero as 0: a goal of 1.20 over six months is 0.20 each.
    file = tmp_path / "cents.yaml"
    file.write_text((ROOT / "sla" / "acme-2026-h1.yaml").read_text(encoding="utf-8")
                    .replace("revenue_goal: 600000", "revenue_goal: 1.20")
                    .replace("  seasonality: {2026-01: 0.8, 2026-06: 1.2}\n", ""), encoding="utf-8")
    run = funnelpact("plan", "--sla", file, "--month", "2026-02")
    assert run.code == 0, run.err
    (line,) = [line for line in run.out.splitlines() if line.lstrip("│ ").startswith("2026-02")]
    assert line.replace("│", " ").split()[1] == "0.20", line


def test_a_goal_near_the_limit_prints_every_cent_in_the_csv_and_every_unit_in_the_table(funnelpact, tmp_path: Path) -> None:
    # Months of ~1.7 x 10^14: a double there is a multiple of 1/32, so cents formatted from
    # one were lost (the JSON numbers are doubles; its _exact fields are the fractions).
    file = tmp_path / "large.yaml"
    file.write_text((ROOT / "sla" / "acme-2026-h1.yaml").read_text(encoding="utf-8")
                    .replace("revenue_goal: 600000", "revenue_goal: 999999999999999.99"), encoding="utf-8")
    months = plan_agreement(load_agreements(file)[0])

    def cents(value: Fraction) -> str:
        whole = math.floor(value * 100 + Fraction(1, 2))
        return f"{whole // 100}.{whole % 100:02d}"

    expected = {p.period: cents(p.revenue) for p in months}
    assert any(float(text) != float(Decimal(text)) or f"{float(text):.2f}" != text for text in expected.values())
    run = funnelpact("plan", "--sla", file, "--format", "csv")
    assert {r["period"]: r["revenue"] for r in csv.DictReader(io.StringIO(run.out))} == expected
    run = funnelpact("plan", "--sla", file, "--format", "json")
    assert {m["period"]: Fraction(m["revenue_exact"]) for m in json.loads(run.out)["months"]} == {
        p.period: p.revenue for p in months}
    wide = Console(width=300, file=io.StringIO())  # 80 columns would cut these figures short
    wide.print(plan_table(load_agreements(file)[0], months, None))
    table = wide.file.getvalue()
    for p in months:
        assert f" {math.floor(p.revenue + Fraction(1, 2)):,} " in table, (p.revenue, table)


def test_the_window_lists_its_targets_in_funnel_order_as_the_months_do(funnelpact) -> None:
    # plan --format json printed the window's targets from customer up to visit.
    run = funnelpact("plan", "--format", "json")
    assert run.code == 0, run.err
    plan = json.loads(run.out)
    for agreement in load_agreements(ROOT / "sla"):
        [window] = [w for w in plan["windows"] if w["revision"] == agreement.revision]
        assert list(window["targets"]) == agreement.stage_ids()
        assert list(plan_window(agreement).targets) == agreement.stage_ids()


def test_a_fraction_of_a_customer_shows_its_first_digit_not_zero(funnelpact, tmp_path: Path) -> None:
    # A goal of 6 at a deal size of 12,000,000 asks for 1/12,000,000 of a customer a month:
    # the table printed "0.00" customers and the CSV "0.000000", next to targets of 1.
    file = tmp_path / "tiny-goal.yaml"
    file.write_text((ROOT / "sla" / "acme-2026-h1.yaml").read_text(encoding="utf-8")
                    .replace("revenue_goal: 600000", "revenue_goal: 6")
                    .replace("average_deal_size: 12000", "average_deal_size: 12000000")
                    .replace("  seasonality: {2026-01: 0.8, 2026-06: 1.2}\n", ""), encoding="utf-8")
    months = plan_agreement(load_agreements(file)[0])
    assert {m.customers for m in months} == {Fraction(1, 12_000_000)}
    assert all(target >= 1 for m in months for target in m.targets.values())
    run = funnelpact("plan", "--sla", file, "--month", "2026-02")
    assert run.code == 0, run.err
    (february,) = [line for line in run.out.splitlines() if line.lstrip("│ ").startswith("2026-02")]
    assert "0.0000001 " in february, february  # 8.3 x 10^-8, to its first digit
    run = funnelpact("plan", "--sla", file)
    window = next(line for line in run.out.splitlines() if "window" in line)
    assert "0.000001 " in window, window  # 5 x 10^-7, rounded half up
    run = funnelpact("plan", "--sla", file, "--format", "csv")
    assert {r["customers"] for r in csv.DictReader(io.StringIO(run.out))} == {"0.0000001"}


def test_an_agreement_revised_every_month_is_named_by_one_span_in_the_window_list(funnelpact, tmp_path: Path,
                                                                                  agreement_file) -> None:
    """Twelve monthly revisions (one gap) named twelve windows in one line; an agreement with
    few revisions keeps its windows listed."""
    from pipelines.agreement.months import add_months

    for k in [m for m in range(12) if m != 6]:
        month = add_months("2026-01", k)
        written = agreement_file(tmp_path, "monthly", "UTC", month, month)
        (tmp_path / f"monthly-{month}.yaml").write_text(
            written.read_text().replace('revision: "1"', f'revision: "m{k + 1}"'))
        written.unlink()
    agreement_file(tmp_path, "yearly", "UTC", "2026-01", "2026-12")
    run = funnelpact("plan", "--sla", tmp_path, "--month", "2027-03")
    assert run.code == 2
    assert ("(windows: monthly 2026-01..2026-06, 2026-08..2026-12 (11 revisions), "
            "yearly 1 2026-01..2026-12)") in " ".join(run.err.split()), run.err
