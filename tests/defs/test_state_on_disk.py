"""A run that meets a full disk, or a Dagster home it cannot read: one line naming the place
and what to do (exit 3 or 2), and the next run is whole.

A real limit, not a mock: the run is a child process under RLIMIT_FSIZE (what `ulimit -f`
sets; tests/defs/full_disk.py).
"""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.settings import Settings
from tests.defs.dbt_copy import copied_dbt_project
from tests.defs.full_disk import run_on_a_full_dagster_home

pytestmark = pytest.mark.slow

AS_OF = "2026-08-20T12:00:00Z"


def test_a_full_dagster_home_exits_3_naming_it_and_the_next_run_is_whole(
        settings: Settings, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Dagster's own writes fail outside the steps: that was a traceback and exit 1, the code
    of a missed target, or an abort (exit 134) with dbt's thread inside DuckDB."""


    # A copy without logs/: the repository's dbt.log, grown by earlier runs, may be past the limit.
    copied_dbt_project(tmp_path, monkeypatch)
    full = run_on_a_full_dagster_home(settings.home.parent, "run", "--as-of", AS_OF, "--format", "json")
    assert full.returncode == 3, full.stderr[-3000:]
    assert "Traceback" not in full.stderr, full.stderr[-3000:]
    assert full.stdout == "", "no scorecard for a run that did not finish"
    [error] = [line for line in full.stderr.splitlines() if line.startswith("error")]
    assert "no room left on the disk" in error and str(settings.dagster_home) in error, error

    nxt = CliRunner().invoke(app, ["run", "--as-of", AS_OF])
    assert nxt.exit_code in (0, 1), nxt.output
    instance = dg.DagsterInstance.get()
    assert not instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])), \
        "the run the full disk stopped is not left started (it would hold the daemon's one slot)"


def test_a_full_disk_while_dbt_parses_is_no_room_naming_dbt_s_files_not_a_broken_project(
        settings: Settings, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """dbt's parse writes its partial-parse state and manifest (~1 MB) into the project's
    target/: on a full disk that read "the dbt project does not parse: [Errno 27] File too
    large", and "run id  in the Dagster UI" for a run that never started."""


    project = copied_dbt_project(tmp_path, monkeypatch)

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (300_000, 300_000))  # under the parse's ~1 MB

    full = subprocess.run(
        [sys.executable, "-c", "from pipelines.cli import main; main()", "run", "--as-of", AS_OF],
        capture_output=True, text=True, cwd=settings.home.parent, preexec_fn=small_files, timeout=300)
    assert full.returncode == 3, full.stderr[-3000:]
    [error] = [line for line in full.stderr.splitlines() if line.startswith("error")]
    assert f"no room left on the disk writing dbt's files under {project}" in error, error
    # The run was told (without a run id: docs/alerts.md), as any run stopped by a full disk.
    assert "does not parse" not in full.stderr and "in the Dagster UI" not in full.stderr, full.stderr[-3000:]
    assert CliRunner().invoke(app, ["run", "--as-of", AS_OF]).exit_code in (0, 1), "room again: the run goes"


def run_killed_at(size: int, settings: Settings) -> None:
    """`funnelpact run`, killed by the kernel when a file it writes grows past `size` bytes: a
    kill at a known byte of a known file. Python ignores SIGXFSZ; here it has its default back."""
    killed = subprocess.run(
        [sys.executable, "-c", "import signal; signal.signal(signal.SIGXFSZ, signal.SIG_DFL); "
         "from pipelines.cli import main; main()", "run", "--as-of", AS_OF],
        capture_output=True, text=True, cwd=settings.home.parent, timeout=300,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (size, size)))
    assert killed.returncode == -signal.SIGXFSZ, killed.stderr[-3000:]


def test_a_first_run_killed_while_it_writes_dagster_yaml_leaves_the_next_run_funnelpact_s_own(
        settings: Settings) -> None:
    """The first run in a home writes its dagster.yaml. Killed there (or out of disk), it left a
    cut-off file, which every later run kept as one the user had edited: Dagster's event log in
    a folder named by the cut-off path, no captured-output manager and no run monitoring."""
    from pipelines.defs.instance import dagster_yaml

    run_killed_at(400, settings)   # the file is ~900 bytes
    nxt = CliRunner().invoke(app, ["run", "--as-of", AS_OF])
    assert nxt.exit_code in (0, 1), nxt.output
    assert (settings.dagster_home / "dagster.yaml").read_text() == dagster_yaml(settings.dagster_home)


def test_a_run_killed_while_dbt_writes_the_manifest_of_a_changed_project_leaves_the_next_run_whole(
        settings: Settings, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first run after a change to the dbt project parses it, and dbt rewrites
    target/manifest.json in place. A run killed there (the OOM killer, a closed SSH session; here
    the kernel's SIGXFSZ at a file size limit, at a known byte) left a cut-off manifest newer
    than the project, stamped as parsed for this warehouse: every later run, and the code
    location's load, failed with "funnelpact failed unexpectedly (JSONDecodeError …); this is a
    bug" until someone deleted target/."""
    import os

    from pipelines.defs.dbt import dbt_project

    project = copied_dbt_project(tmp_path, monkeypatch)
    manifest = dbt_project(settings.warehouse).manifest_path   # parsed for this warehouse, as by a run
    model = next((project / "models" / "marts").glob("*.sql"))
    later = manifest.stat().st_mtime + 1
    os.utime(model, (later, later))   # a pull that changed a model: the next run parses again

    run_killed_at(300_000, settings)
    assert manifest.stat().st_size == 300_000, "killed while it wrote the manifest"

    nxt = CliRunner().invoke(app, ["run", "--as-of", AS_OF])
    assert nxt.exit_code in (0, 1), nxt.output
    json.loads(manifest.read_text())  # parsed again, whole


def test_dbt_s_log_file_on_a_full_disk_is_one_warning_in_the_run_s_log_not_a_traceback_per_line(
        settings: Settings, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """dbt's logs/dbt.log at the limit: the run goes on, and Python's logging printed
    "--- Logging error ---" and a stack for each of dbt's ~170 lines, ~7,000 lines on stderr."""


    project = copied_dbt_project(tmp_path, monkeypatch)
    (project / "logs").mkdir()
    (project / "logs" / "dbt.log").write_bytes(b"x" * (5_000_000 - 100))

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (5_000_000, 5_000_000))

    done = subprocess.run(
        [sys.executable, "-c", "from pipelines.cli import main; main()", "run", "--as-of", AS_OF],
        capture_output=True, text=True, cwd=settings.home.parent, preexec_fn=limit, timeout=300)
    assert done.returncode in (0, 1), done.stderr[-3000:]
    assert "Logging error" not in done.stderr and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert len(done.stderr.splitlines()) <= 3, done.stderr  # the run's first line and the alerts' line
    log = (settings.home / "logs" / "last-run.log").read_text(encoding="utf-8")
    assert "log line(s) could not be written while dbt ran ([Errno 27] File too large)" in log


# --- Dagster's home damaged or held by another process ----------------------------------------

def test_a_damaged_dagster_run_storage_is_bad_input_naming_the_home_and_the_way_out(settings: Settings) -> None:
    """A runs.db SQLite cannot read (a disk error, a copy cut short): that was a traceback and
    exit 1 before the job started. The home is left as it is."""
    from pipelines.defs.instance import prepare_dagster_home

    runs_db = prepare_dagster_home(settings.dagster_home) / "history" / "runs.db"
    runs_db.parent.mkdir(parents=True)
    runs_db.write_bytes(b"\xff" * 8192)
    result = CliRunner().invoke(app, ["run", "--as-of", AS_OF])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    [error] = [line for line in result.output.splitlines() if line.startswith("error")]
    assert f"{settings.dagster_home} DAGSTER_HOME: Dagster's home is damaged" in error, error
    assert "move it aside" in error
    assert runs_db.read_bytes() == b"\xff" * 8192


def test_a_dagster_home_another_process_holds_is_bad_input_without_a_wait_it_did_not_make(
        settings: Settings) -> None:
    """A sqlite3 shell holding the run index's write lock: the message said "for over 30 s",
    but Dagster's run storage gives up after SQLite's 5 s."""
    import time

    from pipelines.defs.instance import prepare_dagster_home

    prepare_dagster_home(settings.dagster_home)
    with dg.DagsterInstance.get():  # DAGSTER_HOME: the settings fixture's; creates the run index
        pass
    runs_db = settings.dagster_home / "history" / "runs.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
         "c.execute('begin exclusive'); print('held', flush=True); sys.stdin.read()", str(runs_db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        result = CliRunner().invoke(app, ["run", "--as-of", AS_OF])
        waited = time.monotonic() - started
    finally:
        holder.communicate("", timeout=30)
    assert result.exit_code == 2, result.output
    error = " ".join(result.output.split())
    assert f"{settings.dagster_home} DAGSTER_HOME: Dagster's home is held by another process (" in error, error
    assert "30 s" not in error and waited < 30, (waited, error)


def test_a_dagster_home_the_run_may_not_write_is_bad_input_naming_it(settings: Settings, without_root_override) -> None:
    """A read-only copy of the home (a restored backup, a mount): Dagster's "attempt to write a
    readonly database" was a traceback and exit 1 before the job started."""
    import os

    from pipelines.defs.instance import prepare_dagster_home

    prepare_dagster_home(settings.dagster_home)
    dg.DagsterInstance.get().get_runs()  # creates its SQLite files
    for folder, _, files in os.walk(settings.dagster_home):
        for name in files:
            os.chmod(os.path.join(folder, name), 0o444)
        os.chmod(folder, 0o555)
    try:
        done = without_root_override("from pipelines.cli import main; main()", "run", "--as-of", AS_OF)
    finally:
        for folder, _, _ in os.walk(settings.dagster_home):
            os.chmod(folder, 0o755)
    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    [error] = [line for line in done.stderr.splitlines() if line.startswith("error")]
    assert f"{settings.dagster_home} DAGSTER_HOME: cannot write Dagster's home" in error, error


def test_reading_the_manifest_waits_for_another_process_parsing_the_project(tmp_path, monkeypatch) -> None:
    """Two processes on one dbt project (`dagster dev` and a CLI run after a change, or two
    warehouses): one read manifest.json while the other's parse had it cut to nothing, and
    failed with "JSONDecodeError … this is a bug". A parse holds target/.funnelpact-parse.lock
    (here another process, as ensure_manifest does); a reader waits for it and reads the whole
    new manifest."""
    import time

    from pipelines.defs.dbt import dbt_project, read_manifest

    copied_dbt_project(tmp_path, monkeypatch)
    project = dbt_project(tmp_path / "warehouse.duckdb")
    manifest = json.loads(project.manifest_path.read_text())
    # Another process parsing: under the lock, dbt truncates manifest.json, then writes it whole.
    parser = subprocess.Popen([sys.executable, "-c", f"""
import fcntl, json, time
from pathlib import Path
target = Path({str(project.manifest_path.parent)!r})
with open(target / ".funnelpact-parse.lock", "a") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    path = target / "manifest.json"
    text = path.read_text()
    path.write_text("")
    print("parsing", flush=True)
    time.sleep(1.5)
    data = json.loads(text)
    data["metadata"]["invocation_id"] = "the new parse"
    path.write_text(json.dumps(data))
"""], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])
    try:
        assert parser.stdout.readline().strip() == "parsing"
        started = time.monotonic()
        read = read_manifest(project)
        waited = time.monotonic() - started
    finally:
        parser.wait(timeout=60)
    assert parser.returncode == 0
    assert read["metadata"]["invocation_id"] == "the new parse"
    assert read["nodes"].keys() == manifest["nodes"].keys()
    assert waited > 0.5
