"""Differential test: every target funnelpact writes anywhere equals SPEC §4 in exact arithmetic.

test_plan.py pins the reverse funnel on hand-worked agreements. This test instead generates
about two hundred seeded random agreement files (2 to 8 stages with any names, rates of up to
4 decimals from 1 down to 0.0001, decimal seasonality weights on some months, windows of 1 to
24 months across year ends, explicit targets including 0, goals and deal sizes with cents,
several revisions of one agreement, goals chosen so that a stage needs an exact whole number
that floats would round up) and recomputes SPEC §4 and §5 here with `fractions.Fraction`: no
funnelpact planning, KPI or compile code is imported. It then reads what funnelpact writes:

  * `funnelpact plan --format json` and `--format csv` (the monthly and window targets, and
    the revenue and customers they come from, rounded half up from their exact values);
  * `raw.agreement_targets`, which the pipeline's agreement_tables step writes into the
    warehouse and the `targets` mart passes on (a DOUBLE column: each target must be the
    double nearest the exact one);
  * the Great Expectations suites `funnelpact compile` writes: each judged (month, KPI) has
    target · (1 − tolerance) as its lower bound (target · (1 + tolerance) as its upper bound
    for the at-most KPIs), tolerance looked up by KPI id, then family, then `default`.

A bound is a JSON number, read back as a double: the nearest double to the exact bound. A
volume is a whole number, so its bound must also judge the whole numbers on either side of the
exact bound as SPEC does. About 6 s.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import duckdb
import pytest

from pipelines.agreement import load_agreements
from pipelines.errors import InputError
from pipelines.warehouse.agreement_tables import write_agreement_tables

SEED = 20260511
AGREEMENTS = 120
LIMIT = 10**15  # SPEC-level bound on money and volumes (docs/agreement.md)
STAGE_NAMES = ["visit", "lead", "mql", "sql", "opportunity", "customer", "signup", "trial_call",
               "demo", "won", "s7", "x_y"]
TIMEZONES = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney"]
OWNERS = ["marketing", "shared", "sales"]


# --- the oracle: SPEC §4 and §5 ---------------------------------------------------------------

def ceil(x: Fraction) -> int:
    return -((-x.numerator) // x.denominator)


def half_up(x: Fraction, places: int) -> Fraction:
    """Money and ratios as plans print them: rounded half up from the exact value."""
    whole, rest = divmod(x.numerator * 10**places, x.denominator)
    return Fraction(whole + (2 * rest >= x.denominator), 10**places)


@dataclass
class Revision:
    """One generated agreement file, as exact numbers."""

    name: str
    revision: str
    months: list[str]
    goal: Fraction
    deal: Fraction
    stages: list[str]
    rates: list[Fraction]  # rates[i] is stages[i] -> stages[i + 1]
    weights: dict[str, Fraction] = field(default_factory=dict)
    explicit: dict[str, dict[str, int]] = field(default_factory=dict)
    tolerances: dict[str, Fraction] = field(default_factory=dict)  # kpis: key -> tolerance
    first_touch: Fraction | None = None
    decision: Fraction | None = None
    max_recycle_rate: Fraction | None = None
    max_quarantine_rate: Fraction = Fraction(2, 100)  # SPEC default, docs/agreement.md
    timezone: str = "UTC"

    def volume_targets(self, customers: Fraction) -> dict[str, int]:
        """⌈ customers / Π(rates from S down to the last stage) ⌉ for each stage S."""
        out = {}
        for i, stage in enumerate(self.stages):
            product = math.prod(self.rates[i:], start=Fraction(1))
            out[stage] = ceil(customers / product)
        return out

    def month_revenue(self, month: str) -> Fraction:
        weights = {m: self.weights.get(m, Fraction(1)) for m in self.months}
        return self.goal * weights[month] / sum(weights.values())

    def month_targets(self, month: str) -> dict[str, int]:
        return self.volume_targets(self.month_revenue(month) / self.deal) | self.explicit.get(month, {})

    def window_targets(self) -> dict[str, int]:
        return self.volume_targets(self.goal / self.deal)

    def kpis(self, month: str) -> dict[str, tuple[Fraction | None, str]]:
        """SPEC §5: each KPI id of the month -> (target, direction)."""
        volumes = self.month_targets(month)
        out: dict[str, tuple[Fraction | None, str]] = {
            f"volume:{s}": (Fraction(volumes[s]), "at_least") for s in self.stages}
        if "mql" in self.stages:
            out["weighted_volume:mql"] = (Fraction(volumes["mql"]), "at_least")
        for (upper, lower), rate in zip(zip(self.stages, self.stages[1:]), self.rates):
            out[f"conversion:{upper}->{lower}"] = (rate, "at_least")
        if "mql" in self.stages:
            out["handoff:first_touch"] = (self.first_touch, "at_least")
            out["handoff:decision"] = (self.decision, "at_least")
            out["recycle_rate"] = (self.max_recycle_rate, "at_most")
        out["revenue"] = (self.month_revenue(month), "at_least")
        out["data_quality:quarantine_rate"] = (self.max_quarantine_rate, "at_most")
        return out

    def tolerance(self, kpi: str) -> Fraction:
        """The KPI's own entry, else its family's, else `default`, else 0."""
        for key in (kpi, kpi.split(":")[0], "default"):
            if key in self.tolerances:
                return self.tolerances[key]
        return Fraction(0)

    def bound(self, kpi: str, target: Fraction, direction: str) -> Fraction:
        tolerance = self.tolerance(kpi)
        return target * (1 - tolerance) if direction == "at_least" else target * (1 + tolerance)


# --- generating agreements ----------------------------------------------------------------------

def decimal_text(x: Fraction) -> str:
    """A fraction with a finite decimal expansion, written out in full (no exponent, no
    rounding: Decimal's 28-digit context would round a 30-digit goal)."""
    places = 0
    while (x * 10**places).denominator != 1:
        places += 1
    whole, digits = divmod(int(x * 10**places), 10**places)
    digits_text = str(digits).rjust(places, "0").rstrip("0") if places else ""
    return f"{whole}.{digits_text}" if digits_text else str(whole)


def month_text(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def a_rate(rnd: random.Random) -> Fraction:
    kind = rnd.random()
    if kind < 0.1:
        return Fraction(1)
    if kind < 0.25:
        return Fraction(rnd.randint(1, 9), 10000)  # tiny
    if kind < 0.5:
        return Fraction(rnd.randint(1, 99), 100)
    return Fraction(rnd.randint(1, 9999), 10000)


def a_share(rnd: random.Random, zero: bool = False) -> Fraction:
    return Fraction(rnd.randint(0 if zero else 1, 9999 if zero else 10000), 10000)


def random_revision(rnd: random.Random, name: str, label: str, first: int, length: int,
                    stages: list[str], timezone: str) -> Revision:
    months = [month_text(first + i) for i in range(length)]
    rates = [a_rate(rnd) for _ in stages[1:]]
    deal = Fraction(rnd.randint(100, 10**9), 100)
    r = Revision(name, label, months, Fraction(rnd.randint(100, 10**12), 100), deal, stages, rates,
                 timezone=timezone)
    if rnd.random() < 0.3:
        # customers / Π is a whole number in every month: floats would round 120 up to 121.
        product = math.prod(rates, start=Fraction(1))
        r.goal = rnd.randint(1, 5000) * product * deal * length
        if not 1 <= r.goal < LIMIT:
            r.goal = deal * length
    else:
        r.weights = {m: Fraction(rnd.randint(1, 30000), 10000) for m in months if rnd.random() < 0.3}
    for m in months:
        if rnd.random() < 0.15:
            chosen = rnd.sample(stages, rnd.randint(1, len(stages)))
            r.explicit[m] = {s: rnd.choice([0, rnd.randint(1, 500), rnd.randint(1, LIMIT - 1)]) for s in chosen}
    families = ["default", "volume", "conversion", "revenue", "data_quality",
                *(["weighted_volume", "handoff", "recycle_rate"] if "mql" in stages else [])]
    ids = [f"volume:{rnd.choice(stages)}", f"conversion:{stages[0]}->{stages[1]}", "revenue"]
    for key in families + ids:
        if rnd.random() < 0.3:
            r.tolerances[key] = rnd.choice([Fraction(0), a_share(rnd, zero=True)])
    if "mql" in stages:
        r.first_touch = a_share(rnd) if rnd.random() < 0.6 else None
        r.decision = a_share(rnd) if rnd.random() < 0.6 else None
        r.max_recycle_rate = a_share(rnd) if rnd.random() < 0.6 else None
    if rnd.random() < 0.4:
        r.max_quarantine_rate = a_share(rnd, zero=True)
    return r


def random_agreement(rnd: random.Random, index: int) -> list[Revision]:
    """One agreement: one to three revisions with consecutive windows, one funnel."""
    stages = rnd.sample(STAGE_NAMES, rnd.randint(2, 8))
    if rnd.random() < 0.5 and "mql" not in stages:
        stages[rnd.randrange(len(stages))] = "mql"
    if "visit" in stages:  # web sessions: only ever the first stage (docs/agreement.md)
        stages.insert(0, stages.pop(stages.index("visit")))
    timezone = rnd.choice(TIMEZONES)
    first = rnd.randint(1995 * 12, 2060 * 12)
    revisions = []
    for n in range(rnd.choice([1, 1, 1, 2, 3])):
        length = rnd.randint(1, 24)
        revisions.append(random_revision(rnd, f"o{index}", f"r{n + 1}", first, length, stages, timezone))
        first += length + rnd.choice([0, 0, 5])
    return revisions


def directed_agreements() -> list[Revision]:
    """Cases a random draw reaches only by chance."""
    quarter, funnel = Fraction(1, 4), ["visit", "lead", "mql", "sql", "opportunity", "customer"]
    rates = [Fraction(5, 100), Fraction(3, 10), Fraction(3, 10), Fraction(4, 10), quarter]
    return [
        # 3.6 customers / (0.25 · 0.4 · 0.3) is exactly 120 MQLs; floats ask for 121.
        Revision("trap", "r1", ["2026-05"], Fraction(36000), Fraction(10000), funnel, rates),
        # A visit bound of 9 999 000 009 998.0001: the double nearest it is 9 999 000 009 998,
        # a volume below the bound that must not pass it.
        Revision("huge", "r1", ["2026-05"], Fraction(36000), Fraction(10000), funnel, rates,
                 explicit={"2026-05": {"visit": 10000000009999}}, tolerances={"volume:visit": Fraction(1, 10000)}),
        # 120 · (1 − 0.04999999999999999) = 114.0000000000000012, whose nearest double is 114.
        Revision("fine", "r1", ["2026-05"], Fraction(36000), Fraction(10000), funnel, rates,
                 tolerances={"volume": Fraction("0.04999999999999999")}),
        # 100 000.015 a month, whose nearest double is 100 000.01499999999942.
        Revision("cents", "r1", [f"2026-0{m}" for m in range(1, 7)], Fraction("600000.09"), Fraction(10000),
                 funnel, rates),
    ]


def yaml_text(r: Revision) -> str:
    lines = [
        "apiVersion: funnelpact/v1",
        "kind: Agreement",
        "metadata:",
        f"  name: {r.name}",
        f"  revision: {r.revision}",
        "  owners: {marketing: {name: M}, sales: {name: S}}",
        "spec:",
        f"  effective: {{from: {r.months[0]}, to: {r.months[-1]}}}",
        f"  timezone: {r.timezone}",
        "  currency: USD",
        f"  revenue_goal: {decimal_text(r.goal)}",
        f"  average_deal_size: {decimal_text(r.deal)}",
        "  stages:",
        *(f"    - {{id: {s}, label: {s.title()}, owner: {OWNERS[i % 3]}}}" for i, s in enumerate(r.stages)),
        "  conversion:",
        *(f"    {u}->{l}: {{rate: {decimal_text(rate)}}}"
          for (u, l), rate in zip(zip(r.stages, r.stages[1:]), r.rates)),
        f"  data_quality: {{max_quarantine_rate: {decimal_text(r.max_quarantine_rate)}}}",
    ]
    if r.weights:
        lines += ["  seasonality:", *(f"    {m}: {decimal_text(w)}" for m, w in r.weights.items())]
    if r.explicit:
        lines += ["  targets:", *(f"    {m}: {{{', '.join(f'{s}: {v}' for s, v in t.items())}}}"
                                  for m, t in r.explicit.items())]
    if r.tolerances:
        lines += ["  kpis:", *(f"    {k}: {{tolerance: {decimal_text(t)}}}" for k, t in r.tolerances.items())]
    handoff = {key: share for key, share in (("first_touch", r.first_touch), ("decision", r.decision)) if share}
    if handoff:
        limits = {"first_touch": "within_hours: 4", "decision": "within_days: 3"}
        lines += ["  handoff:", *(f"    {k}: {{{limits[k]}, attainment: {decimal_text(v)}}}" for k, v in handoff.items())]
    if r.max_recycle_rate is not None:
        lines.append(f"  recycling: {{max_rate: {decimal_text(r.max_recycle_rate)}}}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[tuple[str, str], Revision], list]:
    """The agreement folder, the revisions it holds (by name and revision), and the
    agreements the loader read from it. Revisions whose window targets SPEC puts at 10^15 or
    more are left out: validation refuses them (test below)."""
    rnd = random.Random(SEED)
    folder = tmp_path_factory.mktemp("oracle") / "sla"
    folder.mkdir()
    revisions: dict[tuple[str, str], Revision] = {}
    for agreement in [*(random_agreement(rnd, i) for i in range(AGREEMENTS)), directed_agreements()]:
        kept = [r for r in agreement if max(r.window_targets().values()) < LIMIT]
        for r in kept:
            (folder / f"{r.name}-{r.revision}.yaml").write_text(yaml_text(r), encoding="utf-8")
            revisions[(r.name, r.revision)] = r
    return folder, revisions, load_agreements(folder)


# --- the comparisons ----------------------------------------------------------------------------

def test_the_generator_reaches_the_cases_that_matter(generated) -> None:
    _, revisions, agreements = generated
    assert len(agreements) == len(revisions) > 180
    float_trap = 0
    for r in revisions.values():
        for m in r.months:
            customers = r.month_revenue(m) / r.deal
            exact = customers / math.prod(r.rates, start=Fraction(1))
            in_floats = float(customers) / math.prod((float(x) for x in r.rates), start=1.0)
            float_trap += exact.denominator == 1 and math.ceil(in_floats) != exact
    assert float_trap >= 20  # whole-number top-stage targets that floats round up
    assert any(len(r.stages) == 2 for r in revisions.values()) and any(len(r.stages) == 8 for r in revisions.values())
    assert any(r.months[0][:4] != r.months[-1][:4] for r in revisions.values())
    assert any(0 in t.values() for r in revisions.values() for t in r.explicit.values())
    assert any(r.weights for r in revisions.values()) and any(1 in r.rates for r in revisions.values())
    assert len({r.name for r in revisions.values()}) < len(revisions)  # some agreements have revisions


def test_targets_spec_puts_at_10_to_the_15_or_more_are_refused(tmp_path) -> None:
    rnd = random.Random(SEED + 1)
    refused = 0
    while refused < 3:
        (r, *_) = random_agreement(rnd, 0)
        r.rates[0] = Fraction(1, 10000)
        r.goal = Fraction(rnd.randint(10**9, 10**11))
        if max(r.window_targets().values()) < LIMIT:
            continue
        (tmp_path / "big.yaml").write_text(yaml_text(r), encoding="utf-8")
        with pytest.raises(InputError, match="below 10\\^15"):
            load_agreements(tmp_path / "big.yaml")
        refused += 1


def test_plan_json_holds_every_monthly_and_window_target(generated, funnelpact) -> None:
    folder, revisions, _ = generated
    run = funnelpact("plan", "--sla", folder, "--format", "json")
    assert run.code == 0, run.err
    plan = json.loads(run.out)
    seen = set()
    for month in plan["months"]:
        r = revisions[(month["agreement"], month["revision"])]
        period = month["period"]
        seen.add((r.name, r.revision, period))
        assert month["targets"] == r.month_targets(period), (r.name, r.revision, period)
        assert list(month["targets"]) == r.stages
        assert Fraction(month["customers_exact"]) == r.month_revenue(period) / r.deal
        assert month["revenue"] == float(half_up(r.month_revenue(period), 2))
        assert month["customers"] == float(half_up(r.month_revenue(period) / r.deal, 6))
        assert sorted(month["explicit"]) == sorted(r.explicit.get(period, {}))
    assert seen == {(r.name, r.revision, m) for r in revisions.values() for m in r.months}
    windows = {(w["agreement"], w["revision"]): w for w in plan["windows"]}
    assert windows.keys() == revisions.keys()
    for key, window in windows.items():
        r = revisions[key]
        assert window["targets"] == r.window_targets(), key
        assert (window["from"], window["to"]) == (r.months[0], r.months[-1])
        assert Fraction(window["customers_exact"]) == r.goal / r.deal
        assert window["revenue"] == float(half_up(r.goal, 2))


def test_plan_csv_holds_every_monthly_target(generated, funnelpact) -> None:
    folder, revisions, _ = generated
    run = funnelpact("plan", "--sla", folder, "--format", "csv")
    assert run.code == 0, run.err
    rows = list(csv.DictReader(io.StringIO(run.out)))
    assert len(rows) == sum(len(r.months) for r in revisions.values())
    for row in rows:
        r = revisions[(row["agreement"], row["revision"])]
        written = {s: int(row[s]) for s in r.stages}
        assert written == r.month_targets(row["period"]), (r.name, r.revision, row["period"])
        assert Fraction(row["revenue"]) == half_up(r.month_revenue(row["period"]), 2)
        assert all(row[s] == "" for s in STAGE_NAMES if s in row and s not in r.stages)


def test_the_warehouse_targets_are_the_exact_targets_as_doubles(generated) -> None:
    _, revisions, agreements = generated
    con = duckdb.connect()
    write_agreement_tables(con, agreements)
    rows = con.execute("select agreement, revision, period, kpi, target, direction, tolerance "
                       "from raw.agreement_targets").fetchall()
    expected = {(r.name, r.revision, m, kpi): (target, direction, r.tolerance(kpi))
                for r in revisions.values() for m in r.months for kpi, (target, direction) in r.kpis(m).items()}
    assert len(rows) == len(expected)
    for name, revision, period, kpi, target, direction, tolerance in rows:
        exact, exact_direction, exact_tolerance = expected[(name, revision, period, kpi)]
        where = (name, revision, period, kpi)
        assert target == (None if exact is None else float(exact)), where
        assert (direction, tolerance) == (exact_direction, float(exact_tolerance)), where


def _json_number(x: Fraction) -> int | float:
    return int(x) if x.denominator == 1 else float(x)


def test_every_suite_bound_is_the_exact_bound_of_its_target(generated, funnelpact, tmp_path) -> None:
    folder, revisions, _ = generated
    run = funnelpact("compile", "--sla", folder, "--out", tmp_path / "expectations")
    assert run.code == 0, run.err
    judged = {}
    for path in (tmp_path / "expectations" / "gx" / "expectations").rglob("*.json"):
        for e in json.loads(path.read_text(encoding="utf-8"))["expectations"]:
            meta = e["meta"]
            if meta["kpi"] is not None:
                judged[(meta["agreement"], meta["revision"], meta["period"], meta["kpi"])] = e
    expected = {(r.name, r.revision, m, kpi): (target, direction)
                for r in revisions.values() for m in r.months
                for kpi, (target, direction) in r.kpis(m).items() if target is not None}
    assert judged.keys() == expected.keys()  # and a KPI without a target has no expectation
    for key, (target, direction) in expected.items():
        e, r, kpi = judged[key], revisions[key[:2]], key[3]
        bound = r.bound(kpi, target, direction)
        written = e["kwargs"]["min_value" if direction == "at_least" else "max_value"]
        assert e["type"] == f"expect_column_{'min' if direction == 'at_least' else 'max'}_to_be_between", key
        assert (e["meta"]["target"], e["meta"]["tolerance"], e["meta"]["direction"]) == (
            _json_number(target), _json_number(r.tolerance(kpi)), direction), key
        if kpi.startswith("volume:"):
            # A volume is a whole number: the least that meets is ⌈bound⌉, one fewer breaches,
            # compared as GX compares them (as doubles).
            least = ceil(bound)
            assert float(least) >= written, (key, bound, written)
            assert least == 0 or not float(least - 1) >= written, (key, bound, written)
            # Otherwise the bound reads as it does for any KPI.
            assert written == float(bound) or float(bound) <= least - 1, (key, bound, written)
        else:
            assert written == float(bound), (key, bound, written)
