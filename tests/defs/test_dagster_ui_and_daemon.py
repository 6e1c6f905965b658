"""The real Dagster UI and daemon, as docs/operations.md has users run them: `funnelpact run`
once, then `dagster-webserver` and `dagster-daemon run` on the same home, and a backfill of
the judgement assets launched through the webserver's GraphQL API (what *Launch backfill*
sends); the daemon's run monitoring ending runs a killed process left holding the one run
slot. Loopback only; the processes are killed whatever happens."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipelines.agreement.kpis import family
from pipelines.cli import app
from pipelines.settings import Settings

# Longer than the deadlines below together, so a miss fails with the services' logs.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(480)]

ROOT = Path(__file__).resolve().parents[2]

MONTHS = ["2026-03", "2026-04"]
DEADLINE = 180  # seconds for the judging run; ~10 s when the machine is idle

LAUNCH_BACKFILL = """
mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
  }
}"""
BACKFILL_RUNS = """
query($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    ... on PartitionBackfill { runs(limit: 10) { runId status tags { key value } } }
  }
}"""
JUDGEMENT_STATE = """
{
  assetNodes(assetKeys: [{path: ["kpi_status"]}]) {
    assetPartitionStatuses { ... on TimePartitionStatuses { ranges { startKey endKey status } } }
    assetChecksOrError { ... on AssetChecks { checks { name executionForLatestMaterialization { runId status } } } }
  }
}"""
RUN_LOG = """
query($id: ID!) {
  logsForRun(runId: $id, limit: 5000) {
    ... on EventConnection { events { __typename ... on MessageEvent { message level stepKey } } }
  }
}"""
LOCATION = "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus "\
           "locationOrLoadError { __typename ... on PythonError { message } } } } } }"


# Dagster handles SIGTERM as SIGINT, and SIGINT is ignored when pytest runs in a background
# job of a script: with it back to the default, SIGTERM stops the services cleanly.
WITH_SIGINT = "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dagster:
    """The webserver and the daemon as two services on one home (docs/operations.md)."""

    def __init__(self, folder: Path, env: dict[str, str]):
        self.folder, self.env, self.port = folder, env, free_port()
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *args: str) -> None:
        out = open(self.folder / f"{name}.log", "w")
        # Own session, to stop it with every process it starts (code servers, run workers).
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-c", WITH_SIGINT, str(Path(sys.executable).parent / name), *args], env=self.env,
            cwd=self.folder, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        out.close()

    def stop(self) -> None:
        for process in self.processes.values():
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
            with suppress(ProcessLookupError):   # what is left of the group: run workers, code servers
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def logs(self) -> str:
        return "\n".join(f"--- {name}\n{(self.folder / f'{name}.log').read_text()[-3000:]}" for name in self.processes)

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/graphql", headers={"Content-Type": "application/json"},
            data=json.dumps({"query": query, "variables": variables or {}}).encode())
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.load(response)
        assert "errors" not in answer, answer["errors"]
        return answer["data"]

    def wait_for(self, what: str, probe, deadline: float):
        """probe() until it returns something truthy; fail naming `what`, with the services' logs."""
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            for name, process in self.processes.items():
                assert process.poll() is None, f"{name} exited ({process.returncode}) waiting for {what}\n{self.logs()}"
            try:
                if found := probe():
                    return found
            except OSError:          # the webserver is not listening yet
                pass
            time.sleep(1)
        pytest.fail(f"no {what} after {deadline} s\n{self.logs()}")


@contextmanager
def webserver_and_daemon(folder: Path) -> Iterator[Dagster]:
    # The environment the settings fixture set (FUNNELPACT_*, DAGSTER_HOME in tmp_path), and
    # this checkout first on the path: the code location is the code under test.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    dagster = Dagster(folder, env)
    try:
        yield dagster
    finally:
        dagster.stop()


def test_a_backfill_launched_in_the_ui_is_judged_by_the_daemon_in_one_run(settings: Settings, tmp_path: Path) -> None:
    # docs/operations.md: `funnelpact run` once creates the home, its dagster.yaml and the facts.
    done = CliRunner().invoke(app, ["run", "--from", "2026-01", "--to", "2026-01", "--as-of", "2026-08-20T12:00:00Z"])
    assert done.exit_code in (0, 1), done.output
    assert (settings.dagster_home / "dagster.yaml").is_file()

    workspace = str(ROOT / "workspace.yaml")
    with webserver_and_daemon(tmp_path) as dagster:
        dagster.start("dagster-webserver", "-w", workspace, "-h", "127.0.0.1", "-p", str(dagster.port))
        locations = dagster.wait_for("code location", lambda: [
            e for e in dagster.graphql(LOCATION)["workspaceOrError"]["locationEntries"] if e["loadStatus"] == "LOADED"],
            deadline=120)
        assert [(e["name"], e["locationOrLoadError"]["__typename"]) for e in locations] == [
            ("funnelpact", "RepositoryLocation")], locations

        # What *Launch backfill* on the judgement assets sends. Launched before the daemon
        # starts: its backfill loop looks every 30 s, and its first look then finds it.
        launched = dagster.graphql(LAUNCH_BACKFILL, {"params": {
            "assetSelection": [{"path": ["kpi_status"]}, {"path": ["alerts"]}],
            "partitionNames": MONTHS, "fromFailure": False}})["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        dagster.start("dagster-daemon", "run", "-w", workspace)

        def finished_runs():
            runs = dagster.graphql(BACKFILL_RUNS, {"id": launched["backfillId"]})["partitionBackfillOrError"]["runs"]
            return runs if runs and all(r["status"] in ("SUCCESS", "FAILURE", "CANCELED") for r in runs) else None

        runs = dagster.wait_for("finished run of the backfill", finished_runs, deadline=DEADLINE)
        # The single-run policy: one run for the range, both months, and it succeeded.
        [run] = runs
        tags = {t["key"]: t["value"] for t in run["tags"]}
        assert (tags.get("dagster/asset_partition_range_start"), tags.get("dagster/asset_partition_range_end")) == (
            MONTHS[0], MONTHS[-1])
        assert run["status"] == "SUCCESS", dagster.logs()

        [node] = dagster.graphql(JUDGEMENT_STATE)["assetNodes"]
        log = dagster.graphql(RUN_LOG, {"id": run["runId"]})["logsForRun"]["events"]

    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        judged = con.execute("select period, kpi, status, run_id from judgements.kpi_status "
                             "where period in (select unnest(?))", [MONTHS]).fetchall()
    assert sorted({period for period, *_ in judged}) == MONTHS
    assert {run_id for *_, run_id in judged} == {run["runId"]}, "one run judged both months"

    # The UI shows both months judged, January too (the CLI run).
    ranges = [(r["startKey"], r["endKey"], r["status"]) for r in node["assetPartitionStatuses"]["ranges"]]
    assert ("2026-01", "2026-01", "MATERIALIZED") in ranges and ("2026-03", "2026-04", "MATERIALIZED") in ranges

    # One check per KPI family, recorded by that run: failed exactly where a KPI breached.
    checks = {c["name"]: c["executionForLatestMaterialization"] for c in node["assetChecksOrError"]["checks"]}
    breached = {family(kpi) for _, kpi, status, _ in judged if status == "breach"}
    assert breached, "the generated company misses some targets in spring, or the checks' failures test nothing"
    assert {name: (e["runId"], e["status"]) for name, e in checks.items()} == {
        f"{kpi_family}_targets": (run["runId"], "FAILED" if kpi_family in breached else "SUCCEEDED")
        for kpi_family in {n.removesuffix("_targets") for n in checks}}

    # A run the daemon launched alerts the log channel of sla/ into its own log: each breach once.
    alerted = [e["message"] for e in log if e["__typename"] == "LogMessageEvent" and e["stepKey"] == "alerts"
               and e["message"].startswith("funnelpact alert breach: ")]
    assert sorted((m.split("kpi=")[1].split(";")[0], m.split("month=")[1].split(";")[0]) for m in alerted) == sorted(
        (kpi, period) for period, kpi, status, _ in judged if status == "breach")
    assert all(e["level"] == logging.getLevelName(logging.WARNING) for e in log
               if e["__typename"] == "LogMessageEvent" and e["message"] in alerted)


# --- runs a killed daemon or `dagster dev` left holding the one run slot ---------------------------

def left_by_a_kill(instance, status: str, seconds_ago: float, tags: dict[str, str] | None = None):
    """A run of the job as a process killed `seconds_ago` left it: STARTING (killed while
    launching), STARTED (killed while running), or CANCELING (then *Terminate* clicked on it)."""
    import dagster as dg
    from dagster._core.events import DagsterEvent, DagsterEventType
    from dagster._core.utils import make_new_run_id

    run = instance.add_run(dg.DagsterRun(job_name="funnelpact_job", run_id=make_new_run_id(),
                                         status=dg.DagsterRunStatus.NOT_STARTED, tags=tags or {}))
    steps = {"STARTING": [DagsterEventType.RUN_STARTING],
             "STARTED": [DagsterEventType.RUN_STARTING, DagsterEventType.RUN_START],
             "CANCELING": [DagsterEventType.RUN_STARTING, DagsterEventType.RUN_START, DagsterEventType.RUN_CANCELING]}
    for event in steps[status]:
        instance.report_dagster_event(DagsterEvent(event_type_value=event.value, job_name=run.job_name),
                                      run_id=run.run_id, timestamp=time.time() - seconds_ago)
    assert instance.get_run_by_id(run.run_id).status.value == status
    return run.run_id


def test_every_dagster_yaml_an_earlier_funnelpact_wrote_is_replaced_by_the_current_one(tmp_path: Path) -> None:
    """Each form an earlier release wrote, unedited, gets the current settings (run monitoring
    and its maximum runtime among them); a file someone edited is kept as it is."""
    from pipelines.defs.instance import RUN_MONITORING_V1, _previous, dagster_yaml, prepare_dagster_home

    home = tmp_path / "dagster"
    home.mkdir()
    forms = _previous(home)
    assert forms[-1].endswith(RUN_MONITORING_V1) and len(set(forms)) == len(forms) == 4
    for form in forms:
        (home / "dagster.yaml").write_text(form)
        prepare_dagster_home(home)
        assert (home / "dagster.yaml").read_text() == dagster_yaml(home)
    edited = dagster_yaml(home).replace("max_runtime_seconds: 21600", "max_runtime_seconds: 86400")
    (home / "dagster.yaml").write_text(edited)
    prepare_dagster_home(home)
    assert (home / "dagster.yaml").read_text() == edited


def test_the_daemon_ends_runs_a_kill_left_starting_canceling_or_started_for_hours(settings: Settings) -> None:
    """One iteration of Dagster's run monitoring (what the daemon does every poll) on the home
    funnelpact writes. A run left Starting, Canceling or Started (its process gone with a
    reboot, or a CLI run killed with no later CLI run to mark it) held the one slot until
    someone force-terminated it in the UI, and the schedule's runs queued behind it."""
    import dagster as dg
    from dagster._core.test_utils import create_test_daemon_workspace_context
    from dagster._core.workspace.load_target import EmptyWorkspaceTarget
    from dagster._daemon.monitoring import execute_run_monitoring_iteration

    from pipelines.defs.execute import CLI_TAG
    from pipelines.defs.instance import COMPUTE_LOGS, EVENT_LOG, HEADER, SETTINGS, prepare_dagster_home

    home = settings.dagster_home
    home.mkdir(parents=True)
    # A home the previous funnelpact wrote gets run monitoring.
    (home / "dagster.yaml").write_text(HEADER + SETTINGS + EVENT_LOG.format(base_dir=home.resolve() / "history" / "runs")
                                       + COMPUTE_LOGS.format(base_dir=home.resolve() / "storage"))
    prepare_dagster_home(home)
    with dg.DagsterInstance.get() as instance:
        assert instance.run_monitoring_enabled
        runs = {
            "killed while launching": left_by_a_kill(instance, "STARTING", 11 * 60),
            "slow to start": left_by_a_kill(instance, "STARTING", 3 * 60),
            "terminated after its process died": left_by_a_kill(instance, "CANCELING", 4 * 60),
            # Dagster's default launcher cannot tell a dead run worker from a live one: past
            # 6 hours, a run is dead.
            "killed while running": left_by_a_kill(instance, "STARTED", 6 * 3600 + 60),
            # A reboot: nothing listens where the run was launched, and termination cannot reach it.
            "its dagster dev killed": left_by_a_kill(instance, "STARTED", 7 * 3600, {
                "dagster/grpc_info": json.dumps({"host": "127.0.0.1", "port": free_port()})}),
            "a CLI run killed": left_by_a_kill(instance, "STARTED", 24 * 3600, {CLI_TAG: str(settings.warehouse)}),
            "running for 5 hours": left_by_a_kill(instance, "STARTED", 5 * 3600),
            # Its code server died with it: nothing listens where the run was launched.
            "terminated just now": left_by_a_kill(instance, "STARTED", 3600, {
                "dagster/grpc_info": json.dumps({"host": "127.0.0.1", "port": free_port()})}),
        }
        # What the UI's *Terminate* does: it reports that it could not, and the run is Canceling.
        assert instance.run_coordinator.cancel_run(runs["terminated just now"]) is False
        with create_test_daemon_workspace_context(EmptyWorkspaceTarget(), instance) as context:
            errors = [e for e in execute_run_monitoring_iteration(context, logging.getLogger("test")) if e]
        assert not errors, errors
        assert {what: instance.get_run_by_id(run_id).status.value for what, run_id in runs.items()} == {
            "killed while launching": "FAILURE", "slow to start": "STARTING",
            "terminated after its process died": "CANCELED",
            "killed while running": "FAILURE", "its dagster dev killed": "FAILURE", "a CLI run killed": "FAILURE",
            "running for 5 hours": "STARTED",
            "terminated just now": "CANCELING"}

        def failure(run_id: str) -> list[str]:
            return [r.message for r in instance.all_logs(run_id)
                    if r.dagster_event and r.dagster_event.event_type_value == "PIPELINE_FAILURE"]
        assert failure(runs["killed while launching"]) == ["Run timed out due to taking longer than 600 seconds to start."]
        assert [m.split(". ")[0] for m in failure(runs["killed while running"])] == [
            "This job is being forcibly marked as failed"]


def test_a_run_queued_behind_one_a_kill_left_starting_runs_once_the_daemon_fails_that_one(
        settings: Settings, tmp_path: Path) -> None:
    """`dagster dev` killed (`kill -KILL` of its process group) while launching a run: with
    the daemon started again, the schedule's next run waited behind it for ever."""
    import dagster as dg

    from pipelines.defs.instance import prepare_dagster_home

    prepare_dagster_home(settings.dagster_home)
    with dg.DagsterInstance.get() as instance:
        stuck = left_by_a_kill(instance, "STARTING", 11 * 60)
    workspace = str(ROOT / "workspace.yaml")
    with webserver_and_daemon(tmp_path) as dagster:
        # What the schedule's tick or the UI's *Materialize* does: submit a run to the queue.
        tags = {"dagster/asset_partition_range_start": "2026-03", "dagster/asset_partition_range_end": "2026-03",
                "funnelpact/as_of": "2026-08-20T12:00:00+00:00"}
        queued = subprocess.run([sys.executable, "-m", "dagster", "job", "launch", "-w", workspace, "-j", "funnelpact_job",
                                 "--tags", json.dumps(tags)], env=dagster.env, cwd=settings.home.parent,
                                capture_output=True, text=True, timeout=300)
        assert queued.returncode == 0, queued.stdout[-3000:] + queued.stderr[-3000:]
        with dg.DagsterInstance.get() as instance:
            [run_id] = [r.run_id for r in instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.QUEUED]))]
        dagster.start("dagster-daemon", "run", "-w", workspace)

        def finished():
            with dg.DagsterInstance.get() as instance:
                run = instance.get_run_by_id(run_id)
                return run if run.is_finished else None

        run = dagster.wait_for("finished run of the queue", finished, deadline=DEADLINE)
        assert run.status == dg.DagsterRunStatus.SUCCESS, dagster.logs()
    with dg.DagsterInstance.get() as instance:
        assert instance.get_run_by_id(stuck).status == dg.DagsterRunStatus.FAILURE
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        assert con.execute("select distinct period from judgements.kpi_status").fetchall() == [("2026-03",)]


# --- a run that failed in dbt, re-executed from the UI -------------------------------------------

LAUNCH_RUN = """
mutation($params: ExecutionParams!) {
  launchPipelineExecution(executionParams: $params) {
    __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
  }
}"""
REEXECUTE = """
mutation($params: ReexecutionParams!) {
  launchPipelineReexecution(reexecutionParams: $params) {
    __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
  }
}"""


def test_a_ui_run_that_failed_in_dbt_re_executed_from_asset_failure_ends_as_a_clean_run(
        settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """*Materialize* of March in the UI fails in dbt (recycle_rate, a model edited with a bug);
    once fixed, *Re-execute* > *From asset failure* builds the models the failure left, and
    the judgements are those of a clean run as of the same instant. The UI's run has no as-of
    of its own: the re-execution built the models left as of its own start, beside those the
    first attempt built as of another. Then one model materialised alone is built as of that
    instant too."""
    import dagster as dg

    from pipelines.defs.partitions import AS_OF_TAG
    from tests.defs.dbt_copy import copied_dbt_project

    project = copied_dbt_project(tmp_path, monkeypatch)
    model = project / "models" / "marts" / "recycle_rate.sql"
    fixed = model.read_text()
    # Parses; fails when DuckDB runs it, after the models before it were built.
    model.write_text(fixed.replace("select * from final", "select * from final where cast('broken' as integer) = 1"))
    done = CliRunner().invoke(app, ["run", "--from", "2026-01", "--to", "2026-01", "--as-of", "2026-08-20T12:00:00Z"])
    assert done.exit_code == 3, done.output   # prepares the home; the same bug fails it

    workspace = str(ROOT / "workspace.yaml")
    with webserver_and_daemon(tmp_path) as dagster:
        dagster.start("dagster-webserver", "-w", workspace, "-h", "127.0.0.1", "-p", str(dagster.port))
        dagster.wait_for("code location", lambda: [
            e for e in dagster.graphql(LOCATION)["workspaceOrError"]["locationEntries"] if e["loadStatus"] == "LOADED"],
            deadline=120)
        dagster.start("dagster-daemon", "run", "-w", workspace)

        def compiled_recycle_rate() -> str:
            """The SQL the last build ran for recycle_rate, with its as-of instant."""
            results = json.loads((project / "target" / "run_results.json").read_text())["results"]
            [code] = [r["compiled_code"] for r in results if r["unique_id"] == "model.funnelpact.recycle_rate"]
            return code

        def finished(run_id: str) -> dg.DagsterRun:
            def probe():
                with dg.DagsterInstance.get() as instance:
                    run = instance.get_run_by_id(run_id)
                    return run if run.is_finished else None
            return dagster.wait_for(f"end of run {run_id}", probe, deadline=DEADLINE)

        # What *Materialize* with March picked sends: the partition, no as-of.
        launched = dagster.graphql(LAUNCH_RUN, {"params": {
            "selector": {"repositoryLocationName": "funnelpact", "repositoryName": "__repository__",
                         "pipelineName": "funnelpact_job"},
            "executionMetadata": {"tags": [{"key": "dagster/partition", "value": "2026-03"}]}}})
        first = finished(launched["launchPipelineExecution"]["run"]["runId"])
        assert first.status == dg.DagsterRunStatus.FAILURE
        model.write_text(fixed)
        time.sleep(2)  # the re-execution starts at least a second later: as_of is in seconds
        again = dagster.graphql(REEXECUTE, {"params": {"parentRunId": first.run_id, "strategy": "FROM_ASSET_FAILURE"}})
        assert again["launchPipelineReexecution"]["__typename"] == "LaunchRunSuccess", again
        retry = finished(again["launchPipelineReexecution"]["run"]["runId"])
        assert retry.status == dg.DagsterRunStatus.SUCCESS, dagster.logs()
        rebuilt = compiled_recycle_rate()

        # *Materialize selected* on recycle_rate alone in the asset graph: no load and no as-of
        # of its own. It was built as of its start, beside the models built as of the runs above.
        launched = dagster.graphql(LAUNCH_RUN, {"params": {"selector": {
            "repositoryLocationName": "funnelpact", "repositoryName": "__repository__", "pipelineName": "__ASSET_JOB",
            "assetSelection": [{"path": ["marts", "recycle_rate"]}], "assetCheckSelection": []}}})
        alone = finished(launched["launchPipelineExecution"]["run"]["runId"])
        assert alone.status == dg.DagsterRunStatus.SUCCESS, dagster.logs()

    # The models the failure left were built as of the instant of the models the first attempt
    # built (the months, with their days elapsed), which the runs' tags show.
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        [(kept,)] = con.execute("select distinct as_of from intermediate.int_agreement_months_as_of").fetchall()
        judged = con.execute("select * exclude (run_id, build_id) from judgements.kpi_status "
                             "where period = '2026-03' order by all").fetchall()
    assert f"'{kept:%Y-%m-%d %H:%M:%S}'" in rebuilt, "recycle_rate built as of another instant than the months"
    as_of = datetime.fromisoformat(retry.tags[AS_OF_TAG])
    assert as_of.replace(tzinfo=None) == kept
    # So was the model materialised alone, seconds later: as of the warehouse's instant.
    assert f"'{kept:%Y-%m-%d %H:%M:%S}'" in compiled_recycle_rate(), "materialised alone as of another instant"
    assert alone.tags[AS_OF_TAG] == retry.tags[AS_OF_TAG]
    # A clean run of March as of that instant, on a warehouse of its own.
    monkeypatch.setenv("FUNNELPACT_DUCKDB_PATH", str(tmp_path / "clean.duckdb"))
    clean = CliRunner().invoke(app, ["backfill", "--from", "2026-03", "--to", "2026-03", "--as-of", as_of.isoformat()])
    assert clean.exit_code in (0, 1), clean.output
    with duckdb.connect(str(tmp_path / "clean.duckdb"), read_only=True) as con:
        assert con.execute("select * exclude (run_id, build_id) from judgements.kpi_status order by all").fetchall() == judged
