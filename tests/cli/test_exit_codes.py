"""The exit codes of the commands that run the job (SPEC §7, docs/operations.md 'When a run
fails'): 2 bad input, 3 a pipeline that failed for another reason, 130 interrupted — never 1,
which a scheduler reads as a missed fail-severity target. The job is replaced by its outcome."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.defs.execute import JobOutcome

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def run_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """run(outcome or exception): `funnelpact run` over March 2026 whose job gives that."""
    monkeypatch.setenv("FUNNELPACT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FUNNELPACT_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    (tmp_path / "data").mkdir()

    def run(result):
        def fake_run_job(settings, first, last, as_of, **_):
            if isinstance(result, BaseException):
                raise result
            return result

        monkeypatch.setattr("pipelines.defs.execute.run_job", fake_run_job)
        out = CliRunner().invoke(app, ["run", "--sla", str(ROOT / "sla"), "--data", str(tmp_path / "data"),
                                       "--from", "2026-03", "--to", "2026-03", "--as-of", "2026-08-20T12:00:00Z"])
        return out.exit_code, " ".join(out.output.split())

    return run


def _failed(kind: str, failure: str) -> JobOutcome:
    return JobOutcome("r" * 36, False, "2026-03", "2026-03", datetime(2026, 8, 20, 12, tzinfo=UTC),
                      failure, kind, log_file=Path("last-run.log"))


def test_a_run_that_failed_in_a_step_exits_3_naming_the_step(run_with) -> None:
    code, out = run_with(_failed("crash", "funnel_facts: dbt test no_months_at_all failed"))
    assert code == 3, out
    assert "the run failed: funnel_facts: dbt test no_months_at_all failed" in out and "rrrrrrrr" in out


def test_a_run_whose_step_found_bad_input_exits_2_with_one_line_per_problem(run_with) -> None:
    code, out = run_with(_failed("bad_input", "data/contacts.csv: missing column created_at\n"
                                              "data/deals.csv: missing column status"))
    assert code == 2, out
    assert "missing column created_at" in out and "missing column status" in out


def test_an_interrupted_job_exits_130(run_with) -> None:
    code, out = run_with(_failed("interrupted", "funnel_facts: interrupted"))
    assert code == 130, out
    assert "run again before reading it or writing a report" in out


def test_ctrl_c_outside_the_job_exits_130_not_1(run_with) -> None:
    # click would print "Aborted!" and exit 1, the code of a fail-severity breach.
    code, out = run_with(KeyboardInterrupt())
    assert code == 130, out
    assert "funnelpact: interrupted" in out and "Aborted" not in out
