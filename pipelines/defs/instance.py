"""The persistent Dagster home that CLI runs share with `dagster dev`, so they show in the UI."""

from __future__ import annotations

import os
from pathlib import Path

DAGSTER_YAML = """\
# Written by funnelpact. CLI runs and `dagster dev` share this home, so every run shows in the UI.
telemetry:
  enabled: false
concurrency:
  runs:
    # DuckDB allows one writer: queued runs of the job start one at a time.
    max_concurrent_runs: 1
"""


def prepare_dagster_home(home: Path) -> Path:
    """Create the home with its dagster.yaml (kept if the user edited it) and export it."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(home)
    return home
