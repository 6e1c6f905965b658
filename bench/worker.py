"""One measurement in its own process: `python -m bench.worker '<json task>'`.

Prints one JSON line with the timings the process can see from the inside. The parent
(bench.measure) adds the wall time from spawn to exit and the peak RSS of the process tree.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import datetime
from pathlib import Path


def generate_task(task: dict) -> dict:
    from datetime import date

    from pipelines.data.generate import generate

    summary = generate(Path(task["out"]), contacts=task["contacts"], seed=task.get("seed", 1),
                       start=date.fromisoformat(task["start"]), end=date.fromisoformat(task["end"]),
                       fmt=task.get("fmt", "parquet"))
    return {"rows": summary.rows}


def baseline_task(task: dict) -> dict:
    from bench.baseline import run_baseline

    rows = run_baseline(Path(task["data"]), Path(task["sla"]), datetime.fromisoformat(task["as_of"]))
    return {"rows": rows}  # the parent checks them against the pipeline's volumes


def run_task(task: dict) -> dict:
    """run_job as `funnelpact run` calls it (persistent Dagster home), phases from its event log.

    Every library the run uses is imported first and timed as `imports`, so the steps'
    times are their work: the start-up of issue 9 is imports + Dagster job start (definitions,
    run creation, until the first step starts) + dbt's start (its parse state, adapter and
    graph, until the first node runs).
    """
    import dagster as dg  # noqa: F401
    import dagster_dbt  # noqa: F401
    import dbt.cli.main  # noqa: F401

    from pipelines.checks.context import gx
    from pipelines.defs.execute import run_job
    from pipelines.settings import Settings
    gx()

    settings = Settings.from_env()
    t, started = time.perf_counter(), time.time()
    outcome = run_job(settings, task["first"], task["last"], datetime.fromisoformat(task["as_of"]))
    run_seconds = time.perf_counter() - t
    if not outcome.success:  # a timing of a failed run would mean nothing
        raise SystemExit(f"run failed: {outcome.failure}")
    first_step, steps = step_seconds(outcome.run_id)
    return {"run_job": run_seconds, "run_started_at": started, "steps": steps,
            "job_start": first_step - started,
            "job_overhead": run_seconds - sum(steps.values()),
            "dbt": dbt_timings()}


def step_seconds(run_id: str) -> tuple[float, dict[str, float]]:
    """When the first step started (epoch seconds), and each step's duration."""
    import dagster as dg

    starts, seconds = {}, {}
    for entry in dg.DagsterInstance.get().all_logs(run_id):
        event = entry.dagster_event
        if event is None or not event.step_key:
            continue
        if event.event_type_value == "STEP_START":
            starts[event.step_key] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in starts:
            seconds[event.step_key] = entry.timestamp - starts[event.step_key]
    return min(starts.values()), seconds


def dbt_timings() -> dict[str, float]:
    """dbt's own account of the run's build (target/run_results.json, written by the step)."""
    from pipelines.warehouse.dbt_runner import project_dir

    found = project_dir() / "target" / "run_results.json"
    if not found.exists():
        return {}
    results = json.loads(found.read_text())
    out = {"elapsed": results.get("elapsed_time", 0.0), "models": 0.0, "tests": 0.0}
    first_node = min((t["started_at"] for r in results["results"] for t in r["timing"]), default=None)
    if first_node and results["metadata"].get("invocation_started_at"):
        out["start"] = (datetime.fromisoformat(first_node.replace("Z", "+00:00"))
                        - datetime.fromisoformat(results["metadata"]["invocation_started_at"].replace("Z", "+00:00"))
                        ).total_seconds()
    slowest = {}
    for r in results["results"]:
        kind = "tests" if r["unique_id"].startswith("test.") else "models"
        out[kind] += r.get("execution_time", 0.0)
        # model.<project>.<name>; test.<project>.<name>.<hash>
        slowest[r["unique_id"].split(".")[2]] = r.get("execution_time", 0.0)
    out["slowest"] = dict(sorted(slowest.items(), key=lambda kv: -kv[1])[:5])
    return out


TASKS = {"generate": generate_task, "baseline": baseline_task, "run": run_task}


def main() -> None:
    import atexit
    import gc

    atexit.register(gc.freeze)  # as the `funnelpact` command does (pipelines.cli.main)
    task = json.loads(sys.argv[1])
    out = TASKS[task["kind"]](task)
    out["children_maxrss_kib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print("BENCH-RESULT " + json.dumps(out, default=str), flush=True)


if __name__ == "__main__":
    main()
