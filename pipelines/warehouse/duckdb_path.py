"""Where the warehouse lives: one DuckDB file shared by the loader, dbt and the checks.

`FUNNELPACT_DUCKDB_PATH` (default `.funnelpact/warehouse.duckdb` under the current
directory) is read at call time, not import time, so tests can point it elsewhere with
`monkeypatch.setenv` without reloading modules. `dbt_project/profiles.yml` reads the same
variable; `pipelines.warehouse.dbt_runner` passes it the absolute path resolved here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

ENV_VAR = "FUNNELPACT_DUCKDB_PATH"
DEFAULT_PATH = Path(".funnelpact") / "warehouse.duckdb"


def duckdb_path(environ: Mapping[str, str] | None = None) -> Path:
    """The warehouse file as an absolute path (relative values resolve against the cwd)."""
    env = os.environ if environ is None else environ
    raw = env.get(ENV_VAR) or str(DEFAULT_PATH)
    return Path(raw).expanduser().resolve()
