"""One figure, one text: `funnelpact run`'s table, the review pack and the alerts show a KPI's
target, actual and pace alike (pipelines/agreement/figure_text.py). Each rounded on its own: a
quarantine rate of 0.06 % read 0.1% in the table and 0.06% in the pack, a pace of 75.8 leads
75.80 in the table and 76 in the pack, a weighted volume of 65.5 65.50 in the table and the
alerts and 65.5 in the pack."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

import pytest

from pipelines.alerts.events import AlertEvent
from pipelines.cli.output import console
from pipelines.cli.scorecard_output import print_scorecard
from pipelines.report.format import kpi_value, target_and_actual

DQ = {"quarantined_rows": 0, "duplicate_rows": 0, "by_reason": {}}


def in_the_table(kpi: str, target: float, actual: float, forecast: float) -> tuple[str, str, str]:
    row = {"period": "2026-03", "kpi": kpi, "owner": "shared", "target": target, "actual": actual,
           "forecast": forecast, "status": "at_risk", "severity": "fail", "agreement": "acme", "revision": "2026-h1"}
    with console.capture() as captured:
        print_scorecard([row], DQ, datetime(2026, 3, 10, tzinfo=UTC))
    [cells] = [line.replace("│", " ").split() for line in captured.get().splitlines() if kpi in line]
    return cells[2], cells[3], cells[4]


def in_the_pack(kpi: str, target: float, actual: float, forecast: float) -> tuple[str, str, str]:
    return (*target_and_actual(kpi, target, actual, "USD"), kpi_value(kpi, forecast, "USD"))


def in_an_alert(kpi: str, target: float, actual: float, forecast: float) -> tuple[str, str, str]:
    event = AlertEvent(alert_id="a", kind="at_risk", agreement="acme", revision="2026-h1", period="2026-03",
                       kpi=kpi, owner="shared", owners=(), target=target, actual=actual, previous_status=None,
                       status="at_risk", severity="fail", currency="USD", forecast=forecast)
    return event.fmt_target(), event.fmt_actual(), event.fmt_forecast().removesuffix(" at the month's pace")


# An alert shows the gap beside its target and actual: where that gap, in the figures' own
# decimals, is not their difference, the alert shows all three with the decimals that make it
# so (figure_text.gap_places): its last column; None where it reads as the table and the pack.
@pytest.mark.parametrize("kpi, target, actual, forecast, shown, in_alert", [
    ("data_quality:quarantine_rate", 0.01, 0.0006, 0.0006, ("1.0%", "0.06%", "0.06%"),
     ("1.00%", "0.06%", "0.06%")),  # beside a gap of -0.94 pp
    ("data_quality:quarantine_rate", 0.01, 0.00004, 0.00004, ("1.0%", "0.004%", "0.004%"),
     ("1.000%", "0.004%", "0.004%")),  # beside -0.996 pp
    ("volume:lead", 150, 61, 75.8, ("150", "61", "76"), None),
    ("volume:lead", 150, 25, 312.5, ("150", "25", "313"), None),
    ("weighted_volume:mql", 150, 65.5, 65.5, ("150.0", "65.5", "65.5"), None),
    ("weighted_volume:mql", 150, 65.2, 165.75, ("150.0", "65.2", "165.8"), None),
    ("revenue", 100000, 40000.6, 80001.0, ("USD 100,000", "USD 40,001", "USD 80,001"), None),
    ("revenue", 100000, 99999.6, 99999.6, ("USD 100,000.00", "USD 99,999.60", "USD 100,000"), None),
    ("revenue", 100, 0.4, 0.4, ("USD 100", "USD 0.40", "USD 0.40"),
     ("USD 100.00", "USD 0.40", "USD 0.40")),  # beside -USD 99.60
    ("handoff:first_touch", 0.9, 0.8996, 0.8996, ("90.00%", "89.96%", "90.0%"), None),
], ids=["a share under 1 % keeps 2 decimals", "a share never reads as zero", "a pace is a whole count",
        "a pace's half rounds up", "a weighted volume has 1 decimal", "a weighted volume's half rounds up",
        "money in whole units", "money apart from its target in cents", "money never reads as zero",
        "a share apart from its target"])
def test_the_table_the_pack_and_the_alerts_show_a_figure_alike(kpi, target, actual, forecast, shown, in_alert) -> None:
    assert in_the_pack(kpi, target, actual, forecast) == shown
    assert in_an_alert(kpi, target, actual, forecast) == (in_alert or shown)
    # The run's table has no currency: its revenue is the digits alone.
    assert in_the_table(kpi, target, actual, forecast) == tuple(text.removeprefix("USD ") for text in shown)


def shown_number(text: str) -> Decimal:
    """The number a figure reads as: "-USD 19,999.50 (-20.0%)" is -19999.50."""
    return Decimal(text.split(" (")[0].replace("USD ", "").replace(",", "").removesuffix(" pp").removesuffix("%"))


def alert(kpi: str, target: float, actual: float) -> AlertEvent:
    return AlertEvent(alert_id="a", kind="breach", agreement="acme", revision="2026-h1", period="2026-03", kpi=kpi,
                      owner="shared", owners=(), target=target, actual=actual, previous_status=None, status="breach",
                      severity="fail", currency="USD")


@pytest.mark.parametrize("kpi, draw", [
    ("volume:lead", lambda rng: rng.randint(0, 5000)),
    ("weighted_volume:mql", lambda rng: rng.randint(0, 20000) / 4),  # weights of halves and quarters
    ("revenue", lambda rng: rng.randint(0, 10**9) / 100),  # cents
    ("conversion:lead->mql", lambda rng: rng.randint(0, 10**5) / 10**5),
    ("handoff:first_touch", lambda rng: rng.randint(0, 10**4) / 10**4),
])
def test_an_alert_s_gap_is_the_difference_of_the_target_and_actual_it_shows(kpi, draw) -> None:
    """Each rounded on its own, a target of 100.4 and an actual of 90.6 read 100 and 91 beside a
    gap of -10. Shown with the decimals that make them add up, each figure is still its exact
    value rounded half up: no figure is bent to fit."""
    from pipelines.agreement.kpis import is_share
    from pipelines.agreement.plan import rounded_decimal

    rng = random.Random(kpi)
    scale = 100 if is_share(kpi) else 1
    widened = 0
    for _ in range(2000):
        target, actual = draw(rng), draw(rng)
        event = alert(kpi, target, actual)
        texts = (event.fmt_target(), event.fmt_actual(), event.fmt_gap())
        shown = [shown_number(text) for text in texts]
        assert shown[1] - shown[0] == shown[2], (target, actual, texts)
        for figure, exact in zip(shown, (Fraction(repr(target)), Fraction(repr(actual)),
                                         Fraction(repr(actual)) - Fraction(repr(target)))):
            assert figure == rounded_decimal(exact * scale, -figure.as_tuple().exponent), (target, actual, texts)
        widened += texts[:2] != in_the_pack(kpi, target, actual, actual)[:2]
    if kpi != "volume:lead":  # whole counts always add up
        assert widened, "no pair needed more decimals: the draw tests nothing"


def test_a_gap_that_does_not_add_up_within_four_decimals_is_the_exact_gap_rounded() -> None:
    """Past the cap the shown gap stays the truth, the exact difference rounded, not the
    difference of the rounded figures (100.4444 - 90.5556 would read -9.8888)."""
    event = alert("revenue", 100.44444, 90.55556)
    assert (event.fmt_target(), event.fmt_actual(), event.fmt_gap()) == (
        "USD 100.4444", "USD 90.5556", "-USD 9.8889 (-9.8%)")
