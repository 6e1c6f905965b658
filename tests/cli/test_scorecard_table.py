"""The `run` scorecard for people: each row says whose target it is."""

from __future__ import annotations

from datetime import UTC, datetime

from pipelines.cli.output import console
from pipelines.cli.scorecard_output import print_scorecard

DQ = {"quarantined_rows": 0, "duplicate_rows": 0, "by_reason": {}}


def _row(agreement: str, revision: str, target: float, actual: float) -> dict:
    return {"period": "2026-03", "kpi": "volume:lead", "owner": "marketing", "target": target, "actual": actual,
            "forecast": None, "status": "breach", "severity": "fail", "agreement": agreement, "revision": revision}


def _lines(rows: list[dict]) -> list[str]:
    with console.capture() as captured:
        print_scorecard(rows, DQ, datetime(2026, 6, 1, tzinfo=UTC))
    return [" ".join(line.replace("│", " ").replace("┃", " ").split()) for line in captured.get().splitlines()]


def test_with_two_agreements_each_row_names_its_agreement():
    """na and emea both judge March's leads, both in a revision called 2026: the rows read
    "2026-03 volume:lead 80 4 …" and "… 250 2 …" with nothing to tell which target is whose."""
    lines = _lines([_row("emea", "2026", 250, 2), _row("na", "2026", 80, 4)])
    assert "2026-03 volume:lead 250 2 — breach fail emea 2026" in lines, lines
    assert "2026-03 volume:lead 80 4 — breach fail na 2026" in lines, lines
    assert any(line.split()[-2:] == ["agreement", "revision"] for line in lines), lines


def test_with_one_agreement_the_table_has_no_agreement_column():
    lines = _lines([_row("acme", "2026-h1", 80, 4)])
    assert "2026-03 volume:lead 80 4 — breach fail 2026-h1" in lines, lines
    assert not any("agreement" in line for line in lines), lines
