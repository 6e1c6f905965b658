"""`funnelpact prune-runs`: old finished runs leave the Dagster home with their files."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.dagster_run import DagsterRun
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.defs.instance import prepare_dagster_home
from pipelines.defs.retention import prune_runs


@dg.asset
def tiny() -> int:
    print("a line of captured output")
    return 1


def files_of(home: Path, run_id: str) -> list[Path]:
    return [p for p in (home / "history" / "runs" / f"{run_id}.db", home / "storage" / run_id) if p.exists()]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))  # restored after the test
    return prepare_dagster_home(tmp_path / "dagster")


def materialise(runs: int) -> list[str]:
    with dg.DagsterInstance.get() as instance:
        return [dg.materialize([tiny], instance=instance).run_id for _ in range(runs)]


def run_ids() -> set[str]:
    with dg.DagsterInstance.get() as instance:
        return {r.dagster_run.run_id for r in instance.get_run_records()}


def test_runs_created_before_the_cutoff_go_with_their_files_and_later_ones_stay(home: Path) -> None:
    [old] = materialise(1)
    time.sleep(0.05)
    cutoff = datetime.now(UTC)
    time.sleep(0.05)
    [new] = materialise(1)
    with dg.DagsterInstance.get() as instance:  # a run still under way is never deleted
        instance.add_run(DagsterRun(job_name="funnelpact_job", run_id="under-way", status=dg.DagsterRunStatus.STARTED))
    assert len(files_of(home, old)) == 2 and len(files_of(home, new)) == 2

    dry = prune_runs(home, cutoff, dry_run=True)
    assert (dry.deleted, dry.kept) == (1, 2) and dry.freed > 0
    assert run_ids() == {old, new, "under-way"} and len(files_of(home, old)) == 2

    pruned = prune_runs(home, cutoff)
    assert (pruned.deleted, pruned.kept, pruned.freed) == (1, 2, dry.freed)
    assert run_ids() == {new, "under-way"}
    # Dagster's own delete kept the run's event log file and its captured output.
    assert files_of(home, old) == [] and len(files_of(home, new)) == 2

    later = prune_runs(home, datetime.now(UTC))
    assert (later.deleted, later.kept) == (1, 1) and run_ids() == {"under-way"}


def test_the_command_says_what_it_would_delete_then_deletes_it(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    materialise(2)
    runner = CliRunner()
    dry = runner.invoke(app, ["prune-runs", "--keep-days", "0", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would delete 2 finished runs created before" in " ".join(dry.output.split())
    assert len(run_ids()) == 2
    kept = runner.invoke(app, ["prune-runs"])  # the default keeps 90 days: both are newer
    assert kept.exit_code == 0 and "deleted 0 finished runs" in " ".join(kept.output.split())
    done = runner.invoke(app, ["prune-runs", "--keep-days", "0"])
    assert done.exit_code == 0, done.output
    assert "deleted 2 finished runs" in " ".join(done.output.split()) and run_ids() == set()


def test_a_home_no_run_has_used_is_left_as_it_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "none"))
    result = CliRunner().invoke(app, ["prune-runs"])
    assert result.exit_code == 0 and "nothing to delete" in result.output
    assert "($DAGSTER_HOME; no run has used it)" in " ".join(result.output.split()), result.output
    assert not (tmp_path / "none").exists()


def test_a_home_through_a_file_is_bad_input_naming_its_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cron job's FUNNELPACT_HOME mistyped onto a file pruned nothing, with exit 0, every night."""
    (tmp_path / "notes.txt").write_text("not a folder")
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("FUNNELPACT_HOME", str(tmp_path / "notes.txt"))
    result = CliRunner().invoke(app, ["prune-runs"])
    assert result.exit_code == 2, result.output
    assert " ".join(result.output.split()) == (
        f"error {tmp_path / 'notes.txt' / 'dagster'} FUNNELPACT_HOME: {tmp_path / 'notes.txt'} is a file, not a "
        "folder: expected Dagster's home, a folder, or a path where one can be"), result.output


def test_a_negative_number_of_days_is_bad_input(home: Path) -> None:
    result = CliRunner().invoke(app, ["prune-runs", "--keep-days", "-1"])
    assert result.exit_code == 2 and "--keep-days" in result.output


@pytest.mark.parametrize("edit, where", [
    # YAML's mark of an unclosed list is the end of the file: the line after the last.
    ("max_concurrent_runs: [\n", "dagster.yaml:{end}: Dagster cannot read this dagster.yaml (expected the node content"),
    ("run_storage: {module: elsewhere}\n", "dagster.yaml: Dagster cannot read this dagster.yaml (Errors whilst loading"),
])
def test_an_edited_dagster_yaml_dagster_cannot_read_is_bad_input_and_kept(
        home: Path, edit: str, where: str) -> None:
    """funnelpact keeps a dagster.yaml someone edited (also across an upgrade); one Dagster
    cannot read was a traceback when the instance opened, and `run` exited 1 (a missed target)."""
    config = home / "dagster.yaml"
    config.write_text(config.read_text() + edit)
    edited = config.read_text()
    where = where.format(end=len(edited.splitlines()) + 1)
    result = CliRunner().invoke(app, ["prune-runs", "--dry-run"])
    assert result.exit_code == 2, result.output
    assert where in " ".join(result.output.split())
    assert "delete it and funnelpact writes its own" in " ".join(result.output.split())
    assert config.read_text() == edited


def test_a_damaged_run_history_is_bad_input_naming_the_home_and_kept(home: Path) -> None:
    """A runs.db SQLite cannot read (a disk error, a copy cut short) is what `run` names as a
    damaged home (exit 2); prune-runs said "failed unexpectedly, this is a bug" (exit 3)."""
    runs_db = home / "history" / "runs.db"
    runs_db.parent.mkdir(parents=True, exist_ok=True)
    runs_db.write_bytes(b"\xff" * 8192)
    result = CliRunner().invoke(app, ["prune-runs", "--dry-run"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    [error] = [line for line in result.output.splitlines() if line.startswith("error")]
    assert f"{home} DAGSTER_HOME: Dagster's home is damaged" in error, error
    assert runs_db.read_bytes() == b"\xff" * 8192


def test_a_full_disk_while_pruning_names_the_home_and_no_run_log(home: Path) -> None:
    """prune-runs writes only Dagster's home (its SQLite files, as it deletes); the message
    named "the run's log" too, which it never writes. A real limit on file sizes, as in
    test_state_on_disk: every SQLite write past 1 byte fails as on a full disk."""
    import resource
    import signal
    import subprocess
    import sys

    def one_byte_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1, 1))

    materialise(1)
    full = subprocess.run([sys.executable, "-c", "from pipelines.cli import main; main()", "prune-runs",
                           "--keep-days", "0"], capture_output=True, text=True, preexec_fn=one_byte_files, timeout=120)
    assert full.returncode == 3, full.stderr[-3000:]
    [error] = [line for line in full.stderr.splitlines() if line.startswith("error")]
    assert f"no room left on the disk writing Dagster's home {home} (" in error, error
    assert "run's log" not in error and "Traceback" not in full.stderr, full.stderr[-3000:]
