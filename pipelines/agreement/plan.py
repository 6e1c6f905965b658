"""The reverse funnel (SPEC §4): from the revenue goal to each stage's monthly volume.

Everything is `Fraction`: rates like 0.3 and 0.33 are not exact in binary floating point,
and a target of exactly 120 must never become 121 by round-off before the ceiling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from pipelines.agreement.model import Agreement

# The columns a month's plan has beside its stages' targets (`plan --format csv`, `diff`): a
# stage with one of these ids would overwrite it (a stage `customers` gave the CSV two
# `customers` columns, a stage `revenue` replaced the revenue goal's row in a diff). The CSV
# has the last ones after the stages': they came later, and the columns before kept their places.
PLAN_COLUMNS = ("period", "agreement", "revision", "revenue", "customers")
PLAN_COLUMNS_LAST = ("currency",)
# Every column of the plan beside the stages': none may be a stage id.
PLAN_OWN_COLUMNS = PLAN_COLUMNS + PLAN_COLUMNS_LAST


@dataclass(frozen=True)
class MonthPlan:
    agreement: str
    revision: str
    currency: str
    period: str
    revenue: Fraction
    customers: Fraction
    targets: dict[str, int]
    explicit: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class WindowPlan:
    agreement: str
    revision: str
    currency: str
    first: str
    last: str
    revenue: Fraction
    customers: Fraction
    targets: dict[str, int]


def rounded(value: Fraction, places: int) -> float:
    """The exact `value` rounded half up to `places` decimals, as the double nearest that
    decimal (its shortest form is the decimal itself up to 15 significant digits). Rounding
    float(value) instead rounds the double: a month's revenue of exactly 2 195 461.255
    showed as 2 195 461.25."""
    return float(rounded_decimal(value, places))


def rounded_decimal(value: Fraction | Decimal | float | int, places: int) -> Decimal:
    """The exact `value` rounded half up (away from zero) to `places` decimals, exactly: what
    text shows, in the plan, the report, the scorecard and the alerts alike. A double has no
    cents left from ~9 x 10^13 up, and Python's formatting rounds a double's halves to even:
    a month's revenue of exactly 500 000.5 read 500,001 in the plan and 500,000 in the report.
    A double is taken as its shortest decimal, the figure it holds: the warehouse sums amounts
    as exact decimals and hands them on as doubles, and the double of 100.005 lies just below
    it (an alert showed USD 100.00 where the deals summed to 100.005)."""
    exact = exact_value(value)
    whole = math.floor(abs(exact) * 10**places + Fraction(1, 2))
    sign = "-" if exact < 0 and whole else ""  # never "-0"
    # From the string: Decimal arithmetic would round to its context's 28 digits.
    return Decimal(f"{sign}{whole}E-{places}")


def exact_value(value: Fraction | Decimal | float | int) -> Fraction:
    """The figure `value` stands for: a double as its shortest decimal (see rounded_decimal)."""
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)


def in_percent(share: Fraction | Decimal | float | int, places: int, signed: bool = False) -> str:
    """A share (0.1225) in percent to `places` decimals ("12.3"), rounded half up from its
    exact value like every other figure: Python's `:.1%` rounds the double, and 49 of 400
    read 12.2 % (0.1225 is a double just below it). `signed` writes + or - before it, and a
    gap that rounds to zero keeps its side (-0.0 is below the target)."""
    exact = exact_value(share) * 100
    if signed:
        return ("-" if exact < 0 else "+") + f"{rounded_decimal(abs(exact), places):f}"
    return f"{rounded_decimal(exact, places):f}"


def rounded_visible(value: Fraction, places: int) -> Decimal:
    """`value` rounded to at least `places` decimals, and to more while that shows a positive
    value as zero: a small goal over a large deal size read "0.00 customers" next to targets
    of 1. Format it with `f` (a Decimal of 10^-7 prints as 1E-7 otherwise)."""
    shown = rounded_decimal(value, places)
    while value > 0 and shown == 0:
        places += 1
        shown = rounded_decimal(value, places)
    return shown


def stage_multipliers(agreement: Agreement) -> dict[str, Fraction]:
    """Per stage, the product of the agreed rates from it down to the last stage."""
    ids = agreement.stage_ids()
    product = Fraction(1)
    out = {ids[-1]: product}
    for upper, lower in reversed(list(zip(ids, ids[1:]))):
        product *= Fraction(agreement.conversion_for(upper, lower).rate)
        out[upper] = product
    return out


def volume_targets(agreement: Agreement, customers: Fraction) -> dict[str, int]:
    """Each stage's target, in funnel order (the multipliers are built from the bottom up)."""
    multipliers = stage_multipliers(agreement)
    return {stage: math.ceil(customers / multipliers[stage]) for stage in agreement.stage_ids()}


def month_weights(agreement: Agreement) -> dict[str, Fraction]:
    return {m: Fraction(agreement.spec.seasonality.get(m, 1)) for m in agreement.months()}


def plan_agreement(agreement: Agreement) -> list[MonthPlan]:
    goal = Fraction(agreement.spec.revenue_goal)
    deal = Fraction(agreement.spec.average_deal_size)
    weights = month_weights(agreement)
    total_weight = sum(weights.values())
    ordered = agreement.stage_ids()
    plans = []
    for month, weight in weights.items():
        revenue = goal * weight / total_weight
        customers = revenue / deal
        targets = volume_targets(agreement, customers)
        explicit = agreement.spec.targets.get(month, {})
        targets.update(explicit)
        plans.append(
            MonthPlan(
                agreement=agreement.name,
                revision=agreement.revision,
                currency=agreement.spec.currency,
                period=month,
                revenue=revenue,
                customers=customers,
                targets={s: targets[s] for s in ordered},
                explicit=frozenset(explicit),
            )
        )
    return plans


def plan_window(agreement: Agreement) -> WindowPlan:
    """Window totals, derived from the goal itself rather than summed monthly ceilings."""
    goal = Fraction(agreement.spec.revenue_goal)
    customers = goal / Fraction(agreement.spec.average_deal_size)
    months = agreement.months()
    return WindowPlan(
        agreement=agreement.name,
        revision=agreement.revision,
        currency=agreement.spec.currency,
        first=months[0],
        last=months[-1],
        revenue=goal,
        customers=customers,
        targets=volume_targets(agreement, customers),
    )


def plan(agreements: list[Agreement]) -> list[MonthPlan]:
    """Monthly plans of every revision, ordered by agreement then month."""
    out = [p for a in agreements for p in plan_agreement(a)]
    return sorted(out, key=lambda p: (p.agreement, p.period))
