"""How figures, statuses and KPI names read in the report."""

from __future__ import annotations

import html
import re
from decimal import Decimal
from fractions import Fraction

from pipelines.agreement import figure_text
from pipelines.agreement.plan import exact_value, rounded_decimal, rounded_visible

# Symbol + word + colour: the status must read on a black-and-white printout too.
STATUS = {
    "met": ("✓", "met"),
    "breach": ("✗", "breach"),
    "at_risk": ("!", "at risk"),
    "provisional": ("…", "provisional"),
    "no_data": ("–", "no data"),
}
STATUS_ORDER = ("breach", "at_risk", "provisional", "met", "no_data")
TEAMS = ("marketing", "sales", "shared")

# Control characters HTML cannot hold (a parse error; a NUL is replaced): C0 but tab, line
# feed, form feed and carriage return, DEL and C1. A CRM note may hold them (a vertical tab
# from a pasted Word line break, an ESC).
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def escape(text: str) -> str:
    """Text for the report's HTML, attribute values included: markup escaped, and control
    characters shown as their escape (\\x0b), not written raw into the file."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", html.escape(text))


def status_badge(status: str) -> str:
    symbol, word = STATUS.get(status, ("?", status))
    return (f'<span class="status s-{escape(status)}" data-status="{escape(status)}">'
            f'<span class="sym" aria-hidden="true">{symbol}</span> {escape(word)}</span>')


def number(value: float | None, *, decimals: int = 0, signed: bool = False) -> str:
    """A count (a volume, its pace, a weighted volume) by the rule every output shares
    (pipelines/agreement/figure_text.py). `signed` writes + or - before it."""
    return "—" if value is None else figure_text.number(value, decimals, signed)


def percent(value: float | None, decimals: int = 1) -> str:
    """A measured share, by the rule every output shares (2 decimals under 1 %)."""
    return "—" if value is None else figure_text.percent(value, decimals)


def agreed_percent(value: Decimal | float | None) -> str:
    """A share the agreement states (a rate, an attainment, a tolerance), exactly as agreed:
    rounding an attainment of 0.955 to "95%" would misstate the rule the teams signed."""
    if value is None:
        return "—"
    return f"{(Decimal(str(value)) * 100).normalize():f}%"


def share_of_target(value: float, target: float, tolerance: float | None) -> str:
    """`value` ÷ `target` in whole percent, with the decimals that keep it off the line a KPI is
    still met at (1 − tolerance) when it is not on it: 189 of 199 is 94.97 %, short of the 95 %
    a 5 % tolerance meets, and read "(95%)" beside a breach; a forecast of 95.02 % read the same
    beside a met pace. Up to four decimals, as a target and actual that differ (figure_text)."""
    share = exact_value(value) / exact_value(target)
    line = 1 - exact_value(tolerance or 0)
    places = 0
    while share != line and places < 4 and rounded_decimal(share * 100, places) == rounded_decimal(line * 100, places):
        places += 1
    return percent(share, places)


def money(value: Fraction | Decimal | float | None, currency: str, places: int = 0) -> str:
    if value is None:
        return "—"
    # The typographic minus: the pack is read, not parsed.
    return figure_text.money(value, currency, places).replace("-", "−", 1)


def revenue_target(revenue: Fraction, customers: Fraction, deal_size: Decimal, currency: str) -> str:
    """A month's revenue target and what makes it: "USD 120,000 (10.00 customers × USD 12,000)".
    The figures shown are rounded, and 9.68 customers × USD 12,000 is 116,160, not the target
    of 116,129 shown beside them: "≈" says so whenever the shown figures do not multiply out to
    the shown target. The target itself is the planner's, exact (SPEC section 4)."""
    shown = rounded_visible(customers, 2)
    about = "" if shown * rounded_decimal(deal_size, 0) == rounded_decimal(revenue, 0) else "≈ "
    return f"{money(revenue, currency)} ({about}{shown:,f} customers × {money(deal_size, currency)})"


def kpi_value(kpi: str, value: float | None, currency: str) -> str:
    return "—" if value is None else figure_text.kpi_figure(kpi, value, currency=currency)


def target_and_actual(kpi: str, target: float | None, actual: float | None, currency: str) -> tuple[str, str]:
    """A KPI's target and actual, with the decimals that tell them apart when they differ."""
    return figure_text.target_and_actual(kpi, target, actual, currency)


def scorecard_actual(row: dict, currency: str | None = None) -> str:
    """A judged KPI's actual as the scorecard shows it beside its target. Rounded on its own, an
    attainment of 89.96 % read "Attainment 90.0% against the agreed 90% — breach" in the text
    while the scorecard read 89.96% against 90.00%."""
    return target_and_actual(row["kpi"], row["target"], row["actual"], currency)[1]


def kpi_code(kpi: str) -> str:
    """The KPI id as code that may wrap after its ':' or '->' and nowhere else: squeezed into
    a narrow column, `handoff:first_touch` broke as `handoff:first` / `_touch`. Each piece is
    a span that does not wrap (style.py): a line may also break after a hyphen, and on an A4
    page `conversion:opportunity->customer` broke between the '-' and the '>'."""
    pieces = re.split(r"(?<=:)|(?<=->)", kpi)
    return f'<code class="id">{"<wbr>".join(f"<span>{escape(piece)}</span>" for piece in pieces)}</code>'


def data_number(value: float | None) -> str:
    """Exact value for data-* attributes: tests read the figures back from the HTML."""
    return "" if value is None else repr(float(value))
