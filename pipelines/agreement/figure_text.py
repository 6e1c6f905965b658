"""How a KPI's figure reads for people: one rule per kind of figure, which `funnelpact run`'s
table, `plan`'s, `diff`'s comment, the review pack and the alerts all call. Each output
rounded on its own, and the same figure read three ways: a quarantine rate of 0.06 % was
0.1% in the table and 0.06% in the pack, a pace of 75.80 leads 75.80 in the table and 76 in
the pack, a weighted volume of 65.5 read 65.50 in the table and the alerts and 65.5 in the
pack. Machine outputs (`--format json`, the webhook's raw numbers, the pack's data-*
attributes) keep exact values and do not come here.

The rules, every figure rounded half up from its exact value (rounded_decimal):
- a share: in percent to 1 decimal, to 2 under 1 % (a 0.06 % quarantine rate is neither
  0.1 % nor, at 0.03 %, 0.0 %); a gap in points, or in percent of its target, to 1
  decimal (or the pair's, below);
- a count and its pace: whole (a pace of 75.8 leads is a forecast, not a measure to a
  hundredth);
- a weighted volume: 1 decimal (lead-value weights are halves and quarters: 65.5, not 66);
- money: whole currency units (a revenue goal is agreed in thousands; cents are noise).
And for all: a figure that is not zero never reads as zero (more decimals until it shows,
cents for an amount), a target and actual that differ never read the same (pair_places), and
a gap shown beside them is the difference of the figures shown (gap_places).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from pipelines.agreement.kpis import is_share
from pipelines.agreement.plan import exact_value, rounded_decimal, rounded_visible

Number = Fraction | Decimal | float | int


def default_places(kpi: str) -> int:
    """The decimals a KPI's figure is shown with (of a percent, for a share)."""
    return 1 if is_share(kpi) or kpi.startswith("weighted_volume:") else 0


def pair_places(kpi: str, target: Number | None, actual: Number | None, most: int = 4) -> int:
    """The decimals of a KPI's target, actual and gap: the kind's, and more while a target and
    actual that differ would read the same. An attainment of 0.8996 against 0.90 with no
    tolerance read "90.0%" beside "90.0%", and "breach"; revenue of 99,999.60 against 100,000
    read the same sums. Up to `most` decimals (of a percent, for a share)."""
    places = start = default_places(kpi)
    if target is None or actual is None:
        return places
    scale = 100 if is_share(kpi) else 1
    exact_target, exact_actual = exact_value(target) * scale, exact_value(actual) * scale
    while (exact_target != exact_actual and places < most
           and rounded_decimal(exact_target, places) == rounded_decimal(exact_actual, places)):
        places += 1
    # Money and counts take cents, as elsewhere: 99,999.60, not 99,999.6.
    return max(places, 2) if places > start and not is_share(kpi) else places


def gap_places(kpi: str, target: Number | None, actual: Number | None, most: int = 4) -> int:
    """The decimals of a KPI's target, actual and gap shown side by side: pair_places's, and
    more while the gap read is not the actual read less the target read. Each rounded on its
    own, a revenue target of 100.4 and an actual of 90.6 read 100 and 91 beside a gap of -10
    (-9.8 rounded); in cents they read 100.40, 90.60 and -9.80. Each figure stays its exact
    value rounded, so none is bent to fit; past `most` decimals, the gap is the exact one rounded."""
    places = pair_places(kpi, target, actual, most)
    if target is None or actual is None:
        return places
    gap = exact_value(actual) - exact_value(target)

    def adds_up(places: int) -> bool:
        # Read from the text: a share under 1 % shows 2 decimals whatever `places` (0.86%).
        return (_read(kpi_figure(kpi, actual, places)) - _read(kpi_figure(kpi, target, places))
                == _read(gap_figure(kpi, gap, places)))

    while not adds_up(places) and places < most:
        # Money and counts go to cents once they take decimals, as pair_places has them.
        places = places + 1 if is_share(kpi) or places >= 2 else 2
    return places


def gap_figure(kpi: str, gap: Number, places: int, currency: str | None = None) -> str:
    """actual − target, signed: in percentage points for a share ("-3.0 pp"), else as the KPI's
    figures are ("-USD 20,000")."""
    if is_share(kpi):
        return f"{points(gap, places)} pp"
    return kpi_figure(kpi, gap, places, currency, signed=True)


def _read(text: str) -> Decimal:
    """The number a figure without a currency reads as: "-1,234.5%" is -1234.5."""
    return Decimal(text.removesuffix(" pp").removesuffix("%").replace(",", ""))


def percent(share: Number, places: int = 1, signed: bool = False) -> str:
    """A share (0.0006) in percent ("0.06%")."""
    exact = exact_value(share) * 100
    if 0 < abs(exact) < 1:
        places = max(places, 2)
    return _digits(exact, places, places + 1, signed) + "%"


def points(gap: Number, places: int = 1) -> str:
    """A gap between two shares in percentage points, or a gap as a share of its target: the
    signed digits alone ("-0.8"), to `places` decimals even under 1 (it is a difference, not a
    level: 0.75 pp between 13.0% and 12.3% reads -0.8), more only while it would read as zero."""
    return _digits(exact_value(gap) * 100, places, places + 1, signed=True)


def number(value: Number, places: int = 0, signed: bool = False) -> str:
    """A count, a pace, a weighted volume or an amount: grouped digits ("1,235")."""
    # Cents where a count or an amount needs decimals at all: 0.40, not 0.4 (as pair_places).
    return _digits(exact_value(value), places, max(places + 1, 2), signed)


def money(value: Number, currency: str | None, places: int = 0, signed: bool = False) -> str:
    """An amount in whole currency units: "USD 1,235", "-USD 0.40"; without a currency the
    digits alone (the run's table has no currency column)."""
    text = number(value, places, signed)
    if not currency:
        return text
    sign = text[0] if text[0] in "+-" else ""
    return f"{sign}{currency} {text.removeprefix(sign)}"


def kpi_figure(kpi: str, value: Number, places: int | None = None, currency: str | None = None,
               signed: bool = False) -> str:
    """A KPI's target, actual, forecast or gap (`signed`), by the rule of its kind."""
    places = default_places(kpi) if places is None else places
    if is_share(kpi):
        return percent(value, places, signed)
    if kpi == "revenue":
        return money(value, currency, places, signed)
    return number(value, places, signed)


def target_and_actual(kpi: str, target: Number | None, actual: Number | None, currency: str | None = None,
                      missing: str = "—") -> tuple[str, str]:
    """A KPI's target and actual, with the decimals that tell them apart when they differ."""
    places = pair_places(kpi, target, actual)
    return tuple(missing if v is None else kpi_figure(kpi, v, places, currency) for v in (target, actual))  # type: ignore[return-value]


def _digits(exact: Fraction, places: int, more: int, signed: bool) -> str:
    shown = rounded_decimal(abs(exact), places)
    if exact and not shown:
        # Never a figure that is not zero as zero: a 0.004 % share read "0.00%", 40 cents "0".
        shown = rounded_visible(abs(exact), more)
    # A zero keeps no minus sign ("-0"); a signed zero reads "+0", on the target.
    sign = ("-" if exact < 0 else "+") if signed else ("-" if exact < 0 else "")
    return f"{sign}{shown:,f}"
