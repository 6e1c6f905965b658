"""User text in the terminal is text: brackets in a revision or a path are not rich markup."""

from __future__ import annotations

from datetime import UTC, datetime

from pipelines.cli.output import console
from pipelines.cli.scorecard_output import print_scorecard


def test_a_revision_with_brackets_prints_as_written():
    rows = [{"period": "2026-03", "kpi": "revenue", "owner": "sales", "target": 100.0, "actual": 50.0,
             "forecast": None, "status": "breach", "severity": "fail", "revision": revision}
            for revision in ("2026-h1 [draft]", "h1 [/] [bold]x")]
    dq = {"quarantined_rows": 0, "duplicate_rows": 0, "by_reason": {}}
    with console.capture() as captured:
        print_scorecard(rows, dq, datetime(2026, 3, 31, tzinfo=UTC))
    text = captured.get()
    assert "2026-h1 [draft]" in text and "h1 [/] [bold]x" in text


def test_a_folder_with_brackets_prints_as_written(tmp_path):
    from typer.testing import CliRunner

    from pipelines.cli import app

    out = tmp_path / "data [/] [bold]"
    result = CliRunner().invoke(app, ["generate", "--out", str(out), "--contacts", "50"])
    assert result.exit_code == 0, result.output
    assert "data [/] [bold]" in result.output


def test_lifecycle_values_no_agreement_lists_print_as_written_the_first_five_and_how_many_more():
    values = {"[bold]x": 9, "[/]": 8, "evangelist": 7, "other": 6, "Accepted ": 5, "z1": 1, "z2": 1}
    dq = {"quarantined_rows": 37, "duplicate_rows": 0, "by_reason": {"unknown_stage": 37},
          "unknown_stage_values": values}
    with console.capture() as captured:
        print_scorecard([], dq, datetime(2026, 3, 31, tzinfo=UTC))
    text = " ".join(captured.get().split())
    assert ("unknown_stage: lifecycle values no agreement lists: '[bold]x' 9, '[/]' 8, 'evangelist' 7, 'other' 6, "
            "'Accepted ' 5 and 2 more values;") in text, text


def test_the_scorecard_rounds_half_up_as_the_plan_does():
    """A revenue target of exactly 500,000.5 (1,000,001 over two months) reads 500,001 in
    `plan`; the scorecard, which shows revenue whole, read 500,000 (a double's half to even).
    A share and a weighted volume (1 decimal, as in the pack and the alerts) round the same way."""
    rows = [{"period": "2026-03", "kpi": kpi, "owner": "sales", "target": target, "actual": actual,
             "forecast": None, "status": "breach", "severity": "fail", "revision": "r1"}
            for kpi, target, actual in (("revenue", 500000.5, 2.5), ("weighted_volume:mql", 12.25, 0.5),
                                        ("conversion:lead->mql", 0.13, 0.1225))]
    dq = {"quarantined_rows": 0, "duplicate_rows": 0, "by_reason": {}}
    with console.capture() as captured:
        print_scorecard(rows, dq, datetime(2026, 3, 31, tzinfo=UTC))
    cells = captured.get().split()
    assert "500,001" in cells and "3" in cells and "12.3" in cells and "0.5" in cells, cells
    # 49 of 400 is 12.25 %: half up, not the double's 12.2 %.
    assert "12.3%" in cells and "13.0%" in cells, cells
