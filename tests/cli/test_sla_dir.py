"""Every command's default agreement folder is the same: $FUNNELPACT_SLA_DIR when set, else sla/.

The pipeline commands (run, backfill, report), the code location and the schedule read the
variable; so do the authoring commands, or `validate` and `compile --check` would check
another folder than the one `run` judges.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli import app

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = ROOT / "tests" / "fixtures" / "sla" / "valid" / "minimal-agreement-relying-on-defaults.yaml"


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())


@pytest.fixture
def sla_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder holding one agreement (minimal, 2026-01..2026-03), exported as
    FUNNELPACT_SLA_DIR; the working directory is the repository root, whose sla/ holds acme."""
    folder = tmp_path / "deployed-sla"
    folder.mkdir()
    shutil.copy(MINIMAL, folder / "minimal.yaml")
    monkeypatch.setenv("FUNNELPACT_SLA_DIR", str(folder))
    monkeypatch.chdir(ROOT)
    return folder


def test_validate_checks_the_folder_of_the_variable(sla_dir: Path) -> None:
    code, out = invoke("validate")
    assert code == 0, out
    assert "minimal 1" in out and str(sla_dir / "minimal.yaml") in out
    assert "acme" not in out


def test_plan_plans_the_folder_of_the_variable(sla_dir: Path) -> None:
    code, out = invoke("plan", "--format", "json")
    assert code == 0, out
    assert [m["period"] for m in json.loads(out)["months"]] == ["2026-01", "2026-02", "2026-03"]


def test_an_explicit_folder_still_wins_over_the_variable(sla_dir: Path) -> None:
    code, out = invoke("validate", "sla")
    assert code == 0, out
    assert "acme" in out and "minimal" not in out
    code, out = invoke("plan", "--sla", "sla", "--month", "2026-08", "--format", "json")
    assert code == 0, out


def test_compile_and_its_check_use_the_folder_of_the_variable(sla_dir: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "expectations"
    code, out = invoke("compile", "--out", str(out_dir))
    assert code == 0, out
    assert "compiled 1 revision(s)" in out
    suites = out_dir / "gx" / "expectations"
    assert {p.relative_to(suites).parts[0] for p in suites.rglob("*.json")} == {"minimal"}
    code, out = invoke("compile", "--check", "--out", str(out_dir))
    assert code == 0, out
    assert f"matches {sla_dir}" in out


def test_test_alerts_uses_the_folder_of_the_variable(sla_dir: Path) -> None:
    code, out = invoke("test-alerts")
    assert code == 0, out
    assert "minimal 1: no alert channels" in out


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                   check=True, capture_output=True)


def test_diff_finds_the_repository_of_the_folder_of_the_variable(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # A deployment's checkout with its agreements in agreements/, diffed from another
    # directory (the repository root of funnelpact, another git repository).
    repo = tmp_path / "deployment"
    (repo / "agreements").mkdir(parents=True)
    shutil.copy(MINIMAL, repo / "agreements" / "minimal.yaml")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "agreements")
    git(repo, "commit", "-qm", "base")
    agreement = repo / "agreements" / "minimal.yaml"
    agreement.write_text(agreement.read_text().replace("revenue_goal: 30000", "revenue_goal: 36000"))
    monkeypatch.setenv("FUNNELPACT_SLA_DIR", str(repo / "agreements"))
    monkeypatch.chdir(ROOT)
    code, out = invoke("diff", "HEAD", "--format", "json")
    assert code == 0, out
    [change] = json.loads(out)["revisions"]
    assert (change["agreement"], change["file"]) == ("minimal", "agreements/minimal.yaml")


def test_the_help_of_every_folder_option_names_the_variable() -> None:
    import typer

    commands = typer.main.get_command(app).commands
    for name in ("validate", "plan", "diff", "compile", "test-alerts", "run", "backfill", "report"):
        [param] = [p for p in commands[name].params if p.name in ("sla", "paths")]
        assert "(default: $FUNNELPACT_SLA_DIR or sla/)" in param.help, name


def test_run_judges_the_folder_of_the_variable_and_sla_wins_over_it(sla_dir: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # As of 2028 no month of either folder is under way: the message names the last month of
    # the agreements the run read (minimal: 2026-03; acme in sla/: 2026-12), before any work.
    monkeypatch.setenv("FUNNELPACT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FUNNELPACT_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    (tmp_path / "data").mkdir()
    common = ("--data", str(tmp_path / "data"), "--as-of", "2028-06-01T00:00:00Z")
    code, out = invoke("run", *common)
    assert code == 2 and "--from 2026-03 --to 2026-03" in out, out
    code, out = invoke("run", "--sla", str(ROOT / "sla"), *common)
    assert code == 2 and "--from 2026-12 --to 2026-12" in out, out
    code, out = invoke("run", "--sla", str(ROOT / "sla" / "acme-2026-h1.yaml"), *common)  # one file
    assert code == 2 and "--from 2026-06 --to 2026-06" in out, out
    assert not (tmp_path / "w.duckdb").exists()


def test_a_missing_default_folder_says_where_it_came_from(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Given no --sla, the error named only 'sla' (or the variable's path): not that it was
    looked for in the working directory, or read from $FUNNELPACT_SLA_DIR."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FUNNELPACT_SLA_DIR", raising=False)
    for command in (["validate"], ["plan"], ["run", "--data", str(tmp_path)]):
        code, out = invoke(*command)
        assert code == 2, (command, out)
        assert "sla: no such file or folder" in out and "sla/ in the current directory" in out, (command, out)
        # validate takes the folder as an argument: told to "give --sla", a reader got
        # "No such option: --sla" (exit 2) for following the advice.
        assert ("validate DIR" if command == ["validate"] else "--sla DIR") in out, (command, out)
    monkeypatch.setenv("FUNNELPACT_SLA_DIR", str(tmp_path / "deployed"))
    code, out = invoke("plan")
    assert code == 2 and "deployed: no such file or folder" in out and "the folder $FUNNELPACT_SLA_DIR names" in out, out
    code, out = invoke("plan", "--sla", str(tmp_path / "given"))
    assert code == 2 and "given: no such file or folder" in out and "$FUNNELPACT_SLA_DIR" not in out, out
    # A folder there, but no agreement in it: the variable named too.
    (tmp_path / "deployed").mkdir()
    code, out = invoke("plan")
    assert code == 2 and "no agreement files (*.yaml, *.yml) found (the folder $FUNNELPACT_SLA_DIR names" in out, out
    (tmp_path / "given").mkdir()
    code, out = invoke("plan", "--sla", str(tmp_path / "given"))
    assert code == 2 and "found" in out and "$FUNNELPACT_SLA_DIR" not in out, out
