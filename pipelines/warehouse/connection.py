"""Opening the warehouse: one writer at a time, and a clear message when it is taken."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pipelines.errors import InputError, Problem


class WarehouseLocked(InputError):
    """Another process holds the DuckDB file: DuckDB allows one writer."""


@contextmanager
def connect(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise WarehouseLocked(Problem(
                "the warehouse is in use by another funnelpact run (DuckDB allows one writer); "
                f"wait for it to finish or point FUNNELPACT_DUCKDB_PATH elsewhere ({exc})",
                file=str(path),
            )) from None
        raise
    try:
        yield con
    finally:
        con.close()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """All or nothing: a write that fails half-way leaves the warehouse as it was."""
    con.execute("begin transaction")
    try:
        yield
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")
