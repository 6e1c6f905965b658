"""Ctrl-C while a step's DuckDB query runs is an interrupted run (exit 130), not a crash (exit 3,
"the run failed: raw_crm: Query interrupted"): DuckDB raises RuntimeError('Query interrupted')
in place of Dagster's interruption. The op raises DuckDB's error itself: DuckDB 2.0 misses about
half of the Ctrl-C that land in a query (the query runs on), so a real one would not be
deterministic."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from pipelines.defs.execute import _first_failure


@dg.op
def load() -> None:
    raise RuntimeError("Query interrupted")


@dg.op
def broken() -> None:
    raise RuntimeError("Query failed")


def test_a_step_stopped_inside_a_duckdb_query_is_an_interrupted_run() -> None:
    result = dg.GraphDefinition(name="interrupted", node_defs=[load]).to_job().execute_in_process(raise_on_error=False)
    message, kind, _stack, step, _error = _first_failure(result, Path("last-run.log"))
    assert (kind, step) == ("interrupted", "load"), message


def test_another_runtime_error_is_still_a_crash() -> None:
    result = dg.GraphDefinition(name="crashed", node_defs=[broken]).to_job().execute_in_process(raise_on_error=False)
    assert _first_failure(result, Path("last-run.log"))[1] == "crash"


@dg.op
def fine() -> None:
    pass


def test_a_failure_no_step_explains_points_at_the_run_s_own_log(tmp_path) -> None:
    """It named .funnelpact/logs/last-run.log whatever FUNNELPACT_HOME said."""
    result = dg.GraphDefinition(name="no_step_failed", node_defs=[fine]).to_job().execute_in_process()
    log = tmp_path / "elsewhere" / "logs" / "last-run.log"
    assert _first_failure(result, log) == (f"see the Dagster UI or {log} for its logs", "crash", "", None, None)
