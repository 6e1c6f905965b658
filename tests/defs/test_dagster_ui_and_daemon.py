"""The real Dagster UI and daemon, as docs/operations.md has users run them: `funnelpact run`
once, then `dagster-webserver` and `dagster-daemon run` on the same home, and a backfill of
the judgement assets launched through the webserver's GraphQL API (what *Launch backfill*
sends). Loopback only; the processes are killed whatever happens."""

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
