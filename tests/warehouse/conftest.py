"""Fixtures for the dbt tests: one `dbt parse` per session, a private warehouse per test.

Every dbt invocation gets its own DuckDB file, target path and log path under the test's
tmp directory, so tests (and engineers) running at the same time never share state.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.warehouse.dbt_runner import DbtRun, run_dbt

from . import raw_data

WAREHOUSE_FILE = "warehouse.duckdb"


@pytest.fixture(scope="session")
def dbt_manifest(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Parse the project once; later invocations reuse the manifest instead of re-parsing."""
    tmp = tmp_path_factory.mktemp("dbt_parse")
    # dbt-duckdb names the database after the file's stem and the manifest records it:
    # every test's warehouse file is therefore called warehouse.duckdb too.
    run = run_dbt("parse", warehouse=tmp / WAREHOUSE_FILE, target_path=tmp / "target",
                  log_path=tmp / "logs")
    return run.result.result


@dataclass
class Warehouse:
    """A private DuckDB file with the raw schema, and dbt pointed at it."""

    path: Path
    tmp: Path
    manifest: Any

    def connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.path), read_only=read_only)

    def dbt(self, command: str, **options: Any) -> DbtRun:
        return run_dbt(command, warehouse=self.path, manifest=self.manifest,
                       target_path=self.tmp / "target", log_path=self.tmp / "logs", **options)

    def query(self, sql: str) -> list[dict]:
        with self.connect(read_only=True) as con:
            cur = con.execute(sql)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


@pytest.fixture
def warehouse(tmp_path: Path, dbt_manifest: Any) -> Warehouse:
    path = tmp_path / WAREHOUSE_FILE
    with duckdb.connect(str(path)) as con:
        raw_data.create_raw_tables(con)
    return Warehouse(path=path, tmp=tmp_path, manifest=dbt_manifest)
