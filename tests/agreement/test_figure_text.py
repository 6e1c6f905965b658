"""One figure, one text: `funnelpact run`'s table, the review pack and the alerts show a KPI's
target, actual and pace alike (pipelines/agreement/figure_text.py). Each rounded on its own: a
quarantine rate of 0.06 % read 0.1% in the table and 0.06% in the pack, a pace of 75.8 leads
75.80 in the table and 76 in the pack, a weighted volume of 65.5 65.50 in the table and the
alerts and 65.5 in the pack."""

from __future__ import annotations

from datetime import UTC, datetime

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


@pytest.mark.parametrize("kpi, target, actual, forecast, shown", [
    ("data_quality:quarantine_rate", 0.01, 0.0006, 0.0006, ("1.0%", "0.06%", "0.06%")),
    ("data_quality:quarantine_rate", 0.01, 0.00004, 0.00004, ("1.0%", "0.004%", "0.004%")),
    ("volume:lead", 150, 61, 75.8, ("150", "61", "76")),
    ("volume:lead", 150, 25, 312.5, ("150", "25", "313")),
    ("weighted_volume:mql", 150, 65.5, 65.5, ("150.0", "65.5", "65.5")),
    ("weighted_volume:mql", 150, 65.25, 165.75, ("150.0", "65.3", "165.8")),
    ("revenue", 100000, 40000.5, 80001.0, ("USD 100,000", "USD 40,001", "USD 80,001")),
    ("revenue", 100000, 99999.6, 99999.6, ("USD 100,000.00", "USD 99,999.60", "USD 100,000")),
    ("revenue", 100, 0.4, 0.4, ("USD 100", "USD 0.40", "USD 0.40")),
    ("handoff:first_touch", 0.9, 0.8996, 0.8996, ("90.00%", "89.96%", "90.0%")),
], ids=["a share under 1 % keeps 2 decimals", "a share never reads as zero", "a pace is a whole count",
        "a pace's half rounds up", "a weighted volume has 1 decimal", "a weighted volume's half rounds up",
        "money in whole units", "money apart from its target in cents", "money never reads as zero",
        "a share apart from its target"])
def test_the_table_the_pack_and_the_alerts_show_a_figure_alike(kpi, target, actual, forecast, shown) -> None:
    assert in_the_pack(kpi, target, actual, forecast) == shown
    assert in_an_alert(kpi, target, actual, forecast) == shown
    # The run's table has no currency: its revenue is the digits alone.
    assert in_the_table(kpi, target, actual, forecast) == tuple(text.removeprefix("USD ") for text in shown)
