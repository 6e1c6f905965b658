"""The persistent Dagster home that CLI runs share with `dagster dev`, so they show in the UI."""

from __future__ import annotations

import os
from pathlib import Path

HEADER = "# Written by funnelpact. CLI runs and `dagster dev` share this home, so every run shows in the UI.\n"
SETTINGS = """\
telemetry:
  enabled: false
concurrency:
  runs:
    # DuckDB allows one writer: queued runs of the job start one at a time.
    max_concurrent_runs: 1
"""
# Dagster's own files (history/runs/*.db), written through open connections: see event_log.py.
EVENT_LOG = """\
event_log_storage:
  module: pipelines.defs.event_log
  class: PooledSqliteEventLogStorage
  config:
    base_dir: {base_dir}
"""
# What earlier versions wrote: replaced by the current file (an edited file is kept).
PREVIOUS = (HEADER + SETTINGS,)


def dagster_yaml(home: Path) -> str:
    return HEADER + SETTINGS + EVENT_LOG.format(base_dir=home.resolve() / "history" / "runs")


def prepare_dagster_home(home: Path) -> Path:
    """Create the home with its dagster.yaml (kept if the user edited it) and export it."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() or config.read_text() in PREVIOUS:
        config.write_text(dagster_yaml(home))
    os.environ["DAGSTER_HOME"] = str(home)
    return home
