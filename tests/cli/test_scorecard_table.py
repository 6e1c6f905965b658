"""The `run` scorecard for people: each row says whose target it is."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

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


@pytest.mark.parametrize("kpi, target, actual, shown", [
    ("handoff:first_touch", 0.9, 0.8996, "90.00% 89.96%"),
    ("revenue", 100000.0, 99999.6, "100,000.00 99,999.60"),
    ("handoff:first_touch", 0.9, 0.855, "90.0% 85.5%"),  # apart at one decimal: as before
    ("handoff:first_touch", 0.9, 0.9, "90.0% 90.0%"),
])
def test_a_target_and_actual_that_differ_never_read_the_same(kpi, target, actual, shown):
    """An attainment of 89.96 % against 90 % with no tolerance read "90.0% 90.0% breach"."""
    lines = _lines([{**_row("acme", "2026-h1", target, actual), "kpi": kpi}])
    assert f"2026-03 {kpi} {shown} — breach fail 2026-h1" in lines, lines


def test_with_one_agreement_the_table_has_no_agreement_column():
    lines = _lines([_row("acme", "2026-h1", 80, 4)])
    assert "2026-03 volume:lead 80 4 — breach fail 2026-h1" in lines, lines
    assert not any("agreement" in line for line in lines), lines


def _at_a_terminal(monkeypatch, width: int, rows: list[dict]) -> list[str]:
    import io

    from rich.console import Console

    from pipelines.cli import output

    terminal = Console(file=io.StringIO(), force_terminal=True, width=width, color_system=None)
    monkeypatch.setattr(output, "console", terminal)
    print_scorecard(rows, DQ, datetime(2026, 6, 1, tzinfo=UTC))
    return terminal.file.getvalue().splitlines()


SALES = [{**_row("acme", "2026-h1", target, actual), "kpi": kpi, "owner": "sales"}
         for kpi, target, actual in (("conversion:opportunity->customer", 0.33, 0.227),
                                     ("handoff:first_touch", 0.9, 0.843), ("revenue", 100000.0, 26256.0))]


def test_at_an_80_column_terminal_what_every_row_shares_moves_to_the_title(monkeypatch):
    """At 80 columns every KPI id folded over three lines ("convers", "ion:opp", "ortunit")
    beside columns saying the same month, severity and revision on every row."""
    lines = _at_a_terminal(monkeypatch, 80, SALES)
    assert max(map(len, lines)) <= 80, "\n".join(lines)
    rows = [line.replace("│", " ").split() for line in lines if line.startswith("│")]
    assert rows == [["conversion:opportunity->customer", "33.0%", "22.7%", "breach"],
                    ["handoff:first_touch", "90.0%", "84.3%", "breach"],
                    ["revenue", "100,000", "26,256", "breach"]], "\n".join(lines)
    title = " ".join(" ".join(lines[:2]).split())
    assert title.startswith("sales — as of 2026-06-01 00:00 UTC · 2026-03 · revision 2026-h1 · severity fail"), lines


@pytest.mark.parametrize("width", [80, 60, 50])
def test_a_title_too_long_for_its_table_breaks_between_its_parts(monkeypatch, width):
    """Rich wrapped the title between any two words: "… revision 2026-h1" / "· severity fail"."""
    lines = _at_a_terminal(monkeypatch, width, SALES)
    # The title: the lines above the table's top rule (ruled) or its header (unruled).
    title = [line.rstrip() for line in lines[:next(i for i, line in enumerate(lines) if line.startswith(("┏", "KPI")))]]
    parts = ["sales — as of 2026-06-01 00:00 UTC", "2026-03", "revision 2026-h1", "severity fail"]
    assert [part for line in title for part in line.removesuffix(" ·").split(" · ")] == parts, title
    assert all(line.endswith(" ·") for line in title[:-1]) and len(title) > 1, title


def test_at_an_80_column_terminal_a_column_that_differs_between_rows_stays(monkeypatch):
    rows = [SALES[0], {**SALES[1], "period": "2026-04", "status": "at_risk", "forecast": 0.85, "severity": "warn"}]
    lines = _at_a_terminal(monkeypatch, 80, rows)
    header = next(line for line in lines if "KPI" in line).replace("┃", " ").split()
    assert header == ["month", "KPI", "target", "actual", "forecast", "status", "severity"], "\n".join(lines)
    assert "revision 2026-h1" in " ".join(" ".join(lines[:2]).split()), lines
    assert any("85.0%" in line and "at_risk" in line for line in lines), "\n".join(lines)


def test_at_a_wide_terminal_the_scorecard_keeps_every_column(monkeypatch):
    lines = _at_a_terminal(monkeypatch, 200, SALES)
    header = next(line for line in lines if "KPI" in line).replace("┃", " ").split()
    assert header == ["month", "KPI", "target", "actual", "forecast", "status", "severity", "revision"], lines
    assert lines[0].strip() == "sales — as of 2026-06-01 00:00 UTC", lines


def test_at_an_80_column_terminal_two_agreements_get_a_table_each(monkeypatch):
    """Two agreements judged over two months share no column but the severity: even unruled, the
    table was too wide and every long KPI id folded ("conversion:sql->opportunit", "y")."""
    rows = [{**row, "period": month, "agreement": agreement, "revision": revision}
            for agreement, revision in (("emea", "2026"), ("na", "2026-h1")) for month in ("2026-02", "2026-03")
            for row in SALES]
    lines = _at_a_terminal(monkeypatch, 80, rows)
    assert max(map(len, lines)) <= 80, "\n".join(lines)
    cells = [line.replace("│", " ").split() for line in lines if line.startswith("│")]
    assert [c[1] for c in cells] == [r["kpi"] for r in rows], "\n".join(lines)
    titles = [" ".join(" ".join(lines[i:i + 2]).split()) for i, line in enumerate(lines) if line.startswith("sales")]
    assert [t.split(" · ")[1:3] for t in titles] == [["emea", "revision 2026"], ["na", "revision 2026-h1"]], titles
