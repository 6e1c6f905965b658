"""`funnelpact run`, `backfill` and `report` tell the channels when the job's run fails, as the
failure sensor tells the daemon's and the UI's runs (docs/alerts.md, *When a run fails*): real
runs of the job in-process, a real Dagster home, a loopback webhook."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.settings import Settings
from tests.defs.dbt_copy import copied_dbt_project
from tests.defs.full_disk import run_on_a_full_dagster_home

from .loopback import HttpRecorder

pytestmark = pytest.mark.slow

AS_OF = "2026-08-20T12:00:00Z"
WEBHOOK = "webhook:FUNNELPACT_ALERT_WEBHOOK"


@pytest.fixture
def hooked(settings: Settings, http: HttpRecorder, monkeypatch: pytest.MonkeyPatch) -> HttpRecorder:
    """Both revisions of sla/ with the same webhook besides their Slack, e-mail and log: told
    once. Slack is held back by FUNNELPACT_ALERT_CHANNELS, e-mail's variable is not set."""
    for revision in settings.sla_dir.glob("*.yaml"):
        revision.write_text(revision.read_text().replace(
            "    - {channel: log}", "    - {channel: log}\n    - {channel: webhook, url_env: FUNNELPACT_ALERT_WEBHOOK}"))
    monkeypatch.setenv("FUNNELPACT_ALERT_WEBHOOK", http.url())
    monkeypatch.setenv("FUNNELPACT_SLACK_WEBHOOK", http.url("/slack"))
    monkeypatch.setenv("FUNNELPACT_ALERT_CHANNELS", "webhook,email,log")
    return http


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def one_line(text: str) -> str:
    """stderr as one line: rich wraps it at the terminal's width."""
    return " ".join(text.split())


def failed_run_id() -> str:
    with dg.DagsterInstance.get() as instance:  # DAGSTER_HOME: the settings fixture's
        [run] = instance.get_runs()
    assert run.status == dg.DagsterRunStatus.FAILURE
    return run.run_id


def run_failures(http: HttpRecorder) -> list[dict]:
    return [p.json() for p in http.posts if p.json().get("kind") == "run_failure"]


def test_a_run_whose_data_the_loader_refuses_is_told_once_to_each_channel_and_still_exits_2(
        settings: Settings, hooked: HttpRecorder, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = invoke("run", "--data", str(empty), "--from", "2026-06", "--to", "2026-07", "--as-of", AS_OF)
    assert result.exit_code == 2, result.output
    run_id = failed_run_id()
    [post] = hooked.posts  # the one webhook both revisions name; slack held back
    message = post.json()
    assert post.headers["Idempotency-Key"] == f"run_failure/{run_id}"
    assert {k: message[k] for k in ("kind", "run_id", "job", "step", "months", "agreements", "as_of")} == {
        "kind": "run_failure", "run_id": run_id, "job": "funnelpact_job", "step": "raw_crm",
        "months": ["2026-06", "2026-07"], "as_of": "2026-08-20T12:00:00+00:00",
        "agreements": [{"agreement": "acme", "revision": "2026-h1"}, {"agreement": "acme", "revision": "2026-h2"}]}
    # The error's first line, as the sensor quotes it: the loader's, which names the folder.
    assert message["error"] == (f"{empty}: required table 'contacts' not found; expected contacts.csv, "
                                "contacts.parquet or a folder contacts/ of Parquet files")
    assert message["title"] == f"Run failed in raw_crm: 2026-06..2026-07 not judged (run {run_id[:8]})"
    stderr = one_line(result.stderr)
    assert (f"funnelpact: the failure of run {run_id} was told to log, {WEBHOOK}; not told to "
            "email:FUNNELPACT_SMTP_URL:revops@acme.example (environment variable FUNNELPACT_SMTP_URL is not set: "
            "it must hold smtp://user:password@host:port); held back from slack:FUNNELPACT_SLACK_WEBHOOK "
            "(FUNNELPACT_ALERT_CHANNELS)") in stderr, stderr
    # The command's own error is as it was: each problem on its line, the last word.
    assert result.stderr.splitlines()[-1].startswith(f"error {empty}: required table 'lifecycle_events' not found")
    log = (settings.home / "logs" / "last-run.log").read_text()
    assert f"ERROR pipelines.alerts: funnelpact alert run_failure: run={run_id}; job=funnelpact_job; step=raw_crm" in log


def test_a_command_refused_before_its_run_tells_nobody(settings: Settings, hooked: HttpRecorder) -> None:
    """Its arguments, agreements or data folder refused: no run started, and whoever ran the
    command reads why."""
    assert invoke("run", "--from", "2026-13", "--as-of", AS_OF).exit_code == 2
    assert invoke("backfill", "--from", "2026-07", "--to", "2026-06", "--as-of", AS_OF).exit_code == 2
    assert invoke("run", "--data", "no-such-dir", "--as-of", AS_OF).exit_code == 2
    assert hooked.posts == []


def test_an_unknown_kind_in_funnelpact_alert_channels_refuses_the_command_before_its_run(
        settings: Settings, hooked: HttpRecorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The alerts step reads it last: the run loaded, built and judged, then failed on it, and
    its failure was told to no channel."""
    monkeypatch.setenv("FUNNELPACT_ALERT_CHANNELS", "webhook,teams")
    result = invoke("run", "--data", str(tmp_path), "--from", "2026-06", "--as-of", AS_OF)
    assert result.exit_code == 2, result.output
    assert one_line(result.stderr).startswith("error FUNNELPACT_ALERT_CHANNELS: unknown channel kind 'teams' in "
                                              "'webhook,teams'"), result.stderr
    assert not settings.dagster_home.exists()  # no run started: its home was never made
    assert hooked.posts == [] and "failure of run" not in result.stderr


def test_report_refused_for_an_unknown_channel_kind_does_not_say_it_is_judging(
        settings: Settings, hooked: HttpRecorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """It said "judging 2026-06 … before writing the report", then that nothing would run."""
    monkeypatch.setenv("FUNNELPACT_ALERT_CHANNELS", "webhook,teams")
    result = invoke("report", "--month", "2026-06", "--out", str(tmp_path / "review.html"), "--as-of", AS_OF,
                    "--data", str(tmp_path))
    assert result.exit_code == 2, result.output
    assert one_line(result.stderr).startswith("error FUNNELPACT_ALERT_CHANNELS: unknown channel kind 'teams'"), (
        result.stderr)
    assert not settings.dagster_home.exists()


def test_a_what_if_run_that_fails_tells_nobody(settings: Settings, hooked: HttpRecorder, tmp_path: Path) -> None:
    """A run as of an instant to come announces nothing (docs/alerts.md), its failure neither."""
    result = invoke("run", "--data", str(tmp_path), "--from", "2026-06", "--as-of", "2099-01-01T00:00:00Z")
    assert result.exit_code == 2, result.output
    failed_run_id()
    assert hooked.posts == [] and "failure of run" not in result.stderr


def test_a_report_whose_run_fails_tells_its_month(settings: Settings, hooked: HttpRecorder, tmp_path: Path) -> None:
    """`report` runs the job for a month not judged yet: as `run --from M --to M`, told."""
    result = invoke("report", "--month", "2026-06", "--out", str(tmp_path / "review.html"), "--as-of", AS_OF,
                    "--data", str(tmp_path))
    assert result.exit_code == 2, result.output
    [failure] = run_failures(hooked)
    assert (failure["run_id"], failure["months"]) == (failed_run_id(), ["2026-06"])
    assert not (tmp_path / "review.html").exists()
    assert "funnelpact: judging 2026-06 as of 2026-08-20 12:00 UTC before writing the report" in one_line(
        result.stderr), result.stderr


def test_a_run_that_fails_in_dbt_is_told_with_the_step_and_its_error_and_still_exits_3(
        settings: Settings, hooked: HttpRecorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = copied_dbt_project(tmp_path, monkeypatch)
    (project / "tests").mkdir(exist_ok=True)
    (project / "tests" / "no_months_at_all.sql").write_text("select * from {{ ref('funnel_volumes') }}\n")
    result = invoke("backfill", "--from", "2026-03", "--to", "2026-03", "--as-of", AS_OF)
    assert result.exit_code == 3, result.output
    [failure] = run_failures(hooked)
    assert (failure["run_id"], failure["step"], failure["months"]) == (failed_run_id(), "funnel_facts", ["2026-03"])
    # The line names the test that failed: the message quotes no line after it.
    assert failure["error"] == "dbt build failed: test.funnelpact.no_months_at_all (fail)"
    stderr = one_line(result.stderr)
    # The error's first line, without the step that the terminal's line puts before it.
    assert f"error the run failed: funnel_facts: {failure['error']}" in stderr, (failure, stderr)
    assert [a["revision"] for a in failure["agreements"]] == ["2026-h1"]
    assert f"was told to log, {WEBHOOK};" in stderr


def test_a_run_that_succeeds_tells_no_failure(settings: Settings, hooked: HttpRecorder) -> None:
    result = invoke("run", "--from", "2026-03", "--as-of", AS_OF)
    assert result.exit_code in (0, 1), result.output
    assert hooked.posts, "the run's KPI alerts reach the webhook, or this tests nothing"
    assert run_failures(hooked) == [] and "failure of run" not in result.stderr


def test_ctrl_c_while_a_channel_hangs_stops_telling_and_still_prints_the_run_s_error(
        settings: Settings, hooked: HttpRecorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A webhook that takes the message and never answers, and Ctrl-C meanwhile: the command
    waited out the channel's tries (up to 40 s) before it stopped, without the run's error."""
    import os
    import signal
    import socketserver
    import threading
    import time

    hung, interrupted_at = threading.Event(), []

    class InterruptedMeanwhile(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            self.request.recv(65536)
            interrupted_at.append(time.monotonic())
            os.kill(os.getpid(), signal.SIGINT)  # the terminal's Ctrl-C, as the receiver holds the call
            hung.wait(30)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), InterruptedMeanwhile)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    monkeypatch.setenv("FUNNELPACT_ALERT_WEBHOOK", f"http://127.0.0.1:{server.server_address[1]}/hook")
    try:
        result = invoke("run", "--data", str(tmp_path), "--from", "2026-06", "--as-of", AS_OF)
        took = time.monotonic() - interrupted_at[0]
    finally:
        hung.set()
        server.shutdown()
        server.server_close()
    assert result.exit_code == 2, result.output  # the run's own: the loader refused the data
    stderr = one_line(result.stderr)
    assert f"interrupted while telling the channels that run {failed_run_id()} failed" in stderr, stderr
    assert result.stderr.splitlines()[-1].startswith(f"error {tmp_path}: required table"), result.stderr
    assert took < 8, took  # not the channel's tries (3 of 5 s, up to 40 s)


def test_a_failure_that_cannot_be_told_still_prints_the_run_s_error_and_exit_code(
        settings: Settings, hooked: HttpRecorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in telling (simulated: building the message raises) went to the CLI's handler of
    bugs: the run's own error and its exit code 2 were lost."""
    import pipelines.alerts.run_failure as run_failure

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(run_failure, "message", broken)
    result = invoke("run", "--data", str(tmp_path), "--from", "2026-06", "--as-of", AS_OF)
    assert result.exit_code == 2, result.output
    stderr = one_line(result.stderr)
    assert f"the failure of run {failed_run_id()} could not be told: RuntimeError: a bug" in stderr, stderr
    assert result.stderr.splitlines()[-1].startswith(f"error {tmp_path}: required table"), result.stderr
    assert hooked.posts == []


# --- A run that fails outside its steps ---------------------------------------------------------

NO_RUN_ID = "a run of funnelpact_job (no run id: it failed outside its steps)"


def test_a_run_whose_dagster_home_fills_up_past_the_steps_is_told_without_a_run_id_and_still_exits_3(
        settings: Settings, hooked: HttpRecorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Dagster's own writes fail outside the steps (its run index past a file size limit, as on a
    full disk): the command printed the error and exited 3, and told no channel, so a run of
    cron's that failed for a full disk alerted nobody."""
    copied_dbt_project(tmp_path, monkeypatch)
    full = run_on_a_full_dagster_home(settings.home.parent, "run", "--from", "2026-06", "--to", "2026-07",
                                      "--as-of", AS_OF)
    assert full.returncode == 3, full.stderr[-3000:]
    # The command's own error is as it was: the last line, naming Dagster's home.
    error = full.stderr.splitlines()[-1]
    assert error.startswith(f"error no room left on the disk writing Dagster's home {settings.dagster_home}"), error
    [post] = hooked.posts  # the one webhook both revisions name; slack held back
    message = post.json()
    assert {k: message[k] for k in ("kind", "run_id", "job", "step", "months", "agreements", "as_of")} == {
        "kind": "run_failure", "run_id": None, "job": "funnelpact_job", "step": None,
        "months": ["2026-06", "2026-07"], "as_of": "2026-08-20T12:00:00+00:00",
        "agreements": [{"agreement": "acme", "revision": "2026-h1"}, {"agreement": "acme", "revision": "2026-h2"}]}
    # The error's first line as the command prints it, cut at 300 characters.
    assert message["error"].startswith(f"no room left on the disk writing Dagster's home {settings.dagster_home}")
    assert error.removeprefix("error ").startswith(message["error"].removesuffix("…")), (message["error"], error)
    assert message["title"] == "Run failed in no step: 2026-06..2026-07 not judged (no run id)"
    assert "Run: not known: it failed outside its steps\n" in message["text"], message["text"]
    # Unique without a run id: a receiver that drops a repeated key keeps the next such failure.
    assert message["alert_id"] == post.headers["Idempotency-Key"] == \
        f"run_failure/funnelpact_job/{message['detected_at']}"
    stderr = one_line(full.stderr)
    assert (f"funnelpact: the failure of {NO_RUN_ID} was told to log, {WEBHOOK}; not told to "
            "email:FUNNELPACT_SMTP_URL:revops@acme.example (environment variable FUNNELPACT_SMTP_URL is not set: "
            "it must hold smtp://user:password@host:port); held back from slack:FUNNELPACT_SLACK_WEBHOOK "
            "(FUNNELPACT_ALERT_CHANNELS)") in stderr, stderr
    log = (settings.home / "logs" / "last-run.log").read_text()
    assert ("ERROR pipelines.alerts: funnelpact alert run_failure: run=not known: it failed outside its steps; "
            "job=funnelpact_job; step=none: the run failed outside its steps; error=no room left") in log, log


def test_a_run_refused_because_another_run_holds_the_warehouse_tells_nobody(
        settings: Settings, hooked: HttpRecorder) -> None:
    """The run lock is taken inside the job's execution, and refused there (exit 2): a refusal
    before the run, not a run that failed outside its steps."""
    import subprocess
    import sys

    lock = settings.warehouse.resolve().with_name(settings.warehouse.name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(  # another funnelpact run, as far as the lock goes
        [sys.executable, "-c", "import fcntl, sys; f = open(sys.argv[1], 'w'); fcntl.flock(f, fcntl.LOCK_EX); "
         "print('held', flush=True); sys.stdin.read()", str(lock)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        result = invoke("run", "--from", "2026-06", "--as-of", AS_OF)
    finally:
        holder.communicate("", timeout=30)
    assert result.exit_code == 2, result.output
    assert "another funnelpact run is using this warehouse" in one_line(result.stderr), result.stderr
    assert hooked.posts == [] and "failure of" not in result.stderr


@pytest.mark.parametrize("log_file", [Path("/dev/full"), Path("no-such-folder") / "last-run.log"],
                         ids=["full", "not-there"])
def test_a_run_log_that_cannot_be_written_leaves_the_log_channel_s_line_on_stderr_and_the_webhook_told(
        settings: Settings, hooked: HttpRecorder, log_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The run's log on a full disk (/dev/full: every write fails with ENOSPC) or not there:
    telling raised, on closing the log after the channels were told or on opening it before
    any was, and the command said the failure could not be told."""
    from datetime import UTC, datetime

    from pipelines.agreement import load_agreements
    from pipelines.defs.execute import JobOutcome, tell_failure

    outcome = JobOutcome("", False, "no room left on the disk writing Dagster's home …", log_file=log_file)
    now = datetime.now(UTC)
    told = tell_failure(outcome, load_agreements(settings.sla_dir), ["2026-06"], now, now)
    assert told.sent == ["log", WEBHOOK], told
    [failure] = run_failures(hooked)
    assert failure["run_id"] is None and failure["error"] == outcome.failure
    assert ("ERROR pipelines.alerts: funnelpact alert run_failure: run=not known: it failed outside its steps"
            in capsys.readouterr().err)
