"""Tables too wide for the output are never cut short: a figure or a KPI id shown as
`999,999,…` is a number nobody can read. Pipes and CI logs get the table at its own width."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.agreement import load_agreements
from pipelines.agreement.plan import plan_agreement, plan_window, rounded_decimal, rounded_visible
from pipelines.cli import app
from pipelines.cli.output import console
from pipelines.cli.scorecard_output import print_scorecard

LONG_A, LONG_B = "a" * 40, "b" * 40  # stage ids at their longest (40 characters)
ROOT = Path(__file__).resolve().parents[2]

TEN_STAGES = """\
apiVersion: funnelpact/v1
kind: Agreement
metadata:
  name: ten
  revision: r1
  owners: {marketing: {name: M}, sales: {name: S}}
spec:
  effective: {from: 2026-01, to: 2026-02}
  timezone: UTC
  currency: USD
  revenue_goal: 999999999
  average_deal_size: 1
  stages:
%s
  conversion:
%s
"""


def ten_stages(tmp_path: Path) -> Path:
    ids = ["visit", "lead", "s3", "mql", "s5", "sql", "s7", "opportunity", "s9", "customer"]
    stages = "\n".join(f"    - {{id: {s}, label: {s}, owner: shared}}" for s in ids)
    rates = "\n".join(f"    {a}->{b}: {{rate: 0.1}}" if a == "visit" else f"    {a}->{b}: {{rate: 1}}"
                      for a, b in zip(ids, ids[1:]))
    file = tmp_path / "ten.yaml"
    file.write_text(TEN_STAGES % (stages, rates), encoding="utf-8")
    return file


def test_a_funnel_of_ten_stages_prints_every_figure_of_the_plan_whole(tmp_path):
    file = ten_stages(tmp_path)
    result = CliRunner().invoke(app, ["plan", "--sla", str(file)])
    assert result.exit_code == 0, result.output
    assert "…" not in result.output, result.output
    agreement = load_agreements(file)[0]
    window = next(line for line in result.output.splitlines() if "window" in line)
    for target in plan_window(agreement).targets.values():
        assert f"{target:,}" in window, (target, window)
    for month in plan_agreement(agreement):
        line = next(line for line in result.output.splitlines() if line.startswith(f"│ {month.period}"))
        assert all(f"{t:,}" in line for t in month.targets.values()), line


def test_a_kpi_id_of_two_40_character_stages_prints_whole_in_the_scorecard():
    kpi = f"conversion:{LONG_A}->{LONG_B}"
    rows = [{"period": "2026-03", "kpi": k, "owner": "marketing", "target": target, "actual": 1.0,
             "forecast": None, "status": "breach", "severity": "warn", "revision": "r" * 64}
            for k, target in ((kpi, 1.0), (f"volume:{LONG_A}", 999999999999999.0))]
    dq = {"quarantined_rows": 0, "duplicate_rows": 0, "by_reason": {}}
    with console.capture() as captured:
        print_scorecard(rows, dq, datetime(2026, 3, 31, tzinfo=UTC))
    text = captured.get()
    assert "…" not in text, text
    assert kpi in text and "999,999,999,999,999" in text and "r" * 64 in text, text


def test_at_a_narrow_terminal_a_wide_cell_folds_onto_more_lines_instead_of_being_cut(monkeypatch):
    import io

    from rich.console import Console
    from rich.table import Table

    from pipelines.cli import output

    terminal = Console(file=io.StringIO(), force_terminal=True, width=40, color_system=None)
    monkeypatch.setattr(output, "console", terminal)
    table = Table()
    table.add_column("KPI")
    table.add_column("target", justify="right")
    table.add_row(f"volume:{LONG_A}", "999,999,999,999,999")
    output.print_table(table)
    text = terminal.file.getvalue()
    assert "…" not in text, text
    cells = [line[1:-1].split("│") for line in text.splitlines() if line.startswith("│")]
    assert "".join(c[0].strip() for c in cells) == f"volume:{LONG_A}", text
    assert "".join(c[1].strip() for c in cells) == "999,999,999,999,999", text


def at_a_terminal(columns: int, *args: str) -> list[str]:
    """The lines funnelpact writes to a terminal `columns` wide: a pseudo-terminal, whose
    width rich reads from COLUMNS as it does at a real one; styles are left out."""
    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": str(columns), "TERM": "xterm"}
    proc = subprocess.Popen([sys.executable, "-c", "from pipelines.cli import main; main()", *args],
                            stdout=slave, stderr=subprocess.PIPE, cwd=ROOT, env=env)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 1 << 16)
        except OSError:  # EIO: the command has closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert proc.wait(timeout=120) == 0, proc.stderr.read()
    proc.stderr.close()
    return re.sub(r"\x1b\[[0-9;]*m", "", out.decode()).splitlines()


def millions(tmp_path: Path) -> Path:
    """sla/'s first half with a goal of 9,999,999.99: up to 2,000,000.00 a month and 2,104,378 visits."""
    file = tmp_path / "millions.yaml"
    file.write_text((ROOT / "sla" / "acme-2026-h1.yaml").read_text(encoding="utf-8")
                    .replace("revenue_goal: 600000", "revenue_goal: 9999999.99"), encoding="utf-8")
    return file


@pytest.mark.parametrize(("columns", "sla", "customers", "ruled"), [
    (80, "sla", True, False), (80, "millions", False, False), (200, "sla", True, True), (200, "millions", True, True)],
    ids=lambda v: str(v))
def test_at_a_terminal_the_plan_fits_and_never_splits_a_figure(tmp_path, columns, sla, customers, ruled):
    """At 80 columns a figure was folded over two lines (`100,000` then `.00`), read as two."""
    path = ROOT / "sla" if sla == "sla" else millions(tmp_path)
    lines = at_a_terminal(columns, "plan", "--sla", str(path))
    assert max(len(line) for line in lines) <= columns, "\n".join(lines)
    assert any(line.startswith("┃ month") for line in lines) is ruled, "\n".join(lines)
    for agreement in load_agreements(path):
        for m in plan_agreement(agreement):
            [row] = [line for line in lines if line.strip("│ ").startswith(m.period)]
            expected = [m.period, f"{rounded_decimal(m.revenue, 0):,}",
                        *([f"{rounded_visible(m.customers, 2):,f}"] if customers else []),
                        *(f"{t:,}{'*' if s in m.explicit else ''}" for s, t in m.targets.items())]
            assert row.replace("│", " ").split() == expected, "\n".join(lines)
    if not customers:  # the column left out is said in words
        assert "customers = revenue ÷ USD 12,000 (the deal size)" in [line.strip() for line in lines], "\n".join(lines)


@pytest.mark.parametrize(("columns", "sla"), [(80, "ten"), (60, "sla")])
def test_a_plan_too_wide_for_every_layout_is_split_into_tables_of_some_stages(tmp_path, columns, sla):
    """Ten stages at 80 columns (or six at 60) fit no layout: a figure was folded over two lines."""
    path = ten_stages(tmp_path) if sla == "ten" else ROOT / "sla" / "acme-2026-h1.yaml"
    lines = at_a_terminal(columns, "plan", "--sla", str(path))
    assert max(len(line) for line in lines) <= columns, "\n".join(lines)
    [agreement] = load_agreements(path)
    headers = [line.split() for line in lines if line.startswith("month")]
    # Every stage once, in the funnel's order; the revenue in the first table only.
    assert len(headers) > 1 and headers[0][:2] == ["month", "revenue"], "\n".join(lines)
    assert [c for h in headers for c in h if c not in ("month", "revenue")] == [s.id for s in agreement.spec.stages]
    for m in plan_agreement(agreement):
        rows = [line.split() for line in lines if line.startswith(m.period)]
        assert len(rows) == len(headers), "\n".join(lines)
        assert [cell for row in rows for cell in row[1:]] == [
            f"{rounded_decimal(m.revenue, 0):,}", *(f"{t:,}{'*' if s in m.explicit else ''}" for s, t in m.targets.items())]
    window = [line.split() for line in lines if line.startswith("window")]
    assert [cell for row in window for cell in row[1:]] == [
        f"{rounded_decimal(plan_window(agreement).revenue, 0):,}", *(f"{t:,}" for t in plan_window(agreement).targets.values())]
