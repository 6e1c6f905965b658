"""Opening the warehouse: one writer at a time, and a clear message when it is taken."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pipelines.disk_full import NO_ROOM
from pipelines.errors import InputError, Problem
from pipelines.warehouse.duckdb_path import ENV_VAR
from pipelines.warehouse.memory_limit import memory_limit


def without_progress_bar(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """`con` without DuckDB's progress bar, which it draws on stdout (a pipe or a file too) for
    any query over 2 s: into `run --format json`'s document, an import's redirected output,
    and on a terminal over funnelpact's own spinner on stderr. A session setting (connect's
    config refuses it); not printing holds also when a setting such as progress_bar_time
    turns the bar back on."""
    con.execute("set enable_progress_bar = false; set enable_progress_bar_print = false")
    return con


def within_memory_limit(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """`con` holding at most FUNNELPACT_DUCKDB_MEMORY_LIMIT (`memory_limit`), when it is set:
    each connection funnelpact opens (the warehouse's, an import's) takes it, or a run or import
    within the limit peaked at DuckDB's default, 80 % of the machine. A bad value is exit 2."""
    limit = memory_limit()
    if limit:  # checked: a size or a share, nothing to quote
        con.execute(f"set memory_limit = '{limit}'")
    return con


@contextmanager
def interrupted_by_ctrl_c(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Ctrl-C stops the query `con` is running. DuckDB runs Python's SIGINT handler while a
    query runs, and swallows the KeyboardInterrupt it raises: the query ran on to its end
    (17 s of a 17 s query) and the interrupt was lost. Interrupting the connection from the
    handler stops the query at once; the handler in force before (Python's, or Dagster's in a
    run) is then called as it would have been, and DuckDB turns what it raises into
    RuntimeError('Query interrupted'), which pipelines.errors.interrupted_query reads as an
    interruption (exit 130). Signal handlers belong to the main thread only."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.getsignal(signal.SIGINT)
    if before == signal.SIG_IGN:
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        con.interrupt()
        (before if callable(before) else signal.default_int_handler)(signum, frame)

    signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


class WarehouseLocked(InputError):
    """Another process holds the DuckDB file: DuckDB allows one writer."""


def not_a_warehouse(path: Path) -> InputError:
    """FUNNELPACT_DUCKDB_PATH names a folder, or a file DuckDB cannot open (not exit 3)."""
    what = "is a folder" if path.is_dir() else "is not a DuckDB database file"
    return InputError(Problem(f"{what}: expected the warehouse's DuckDB file (created if missing)",
                              file=str(path), field=ENV_VAR))


def not_a_database_file(path: Path) -> bool:
    """`path` is a folder, or a file without DuckDB's magic bytes (`DUCK` after the header's
    checksum). DuckDB itself opens an existing CSV, Parquet or JSON file (`deals.csv`) as an
    in-memory database holding a view of it: a run's load and agreement tables went into
    memory and were lost, and dbt's build then failed (exit 3) on a warehouse without `raw`."""
    if path.is_dir():
        return True
    try:
        with open(path, "rb") as handle:
            return handle.read(12)[8:12] != b"DUCK"
    except FileNotFoundError:
        return False  # created by the run
    except OSError:
        return False  # unreadable: DuckDB's own error names it (Permission denied, …)


@contextmanager
def writable(folder: Path, variable: str) -> Iterator[None]:
    """A state folder a run cannot create or write (a path through a file, no permission) is
    bad input, named by the setting that points there, not a traceback and exit 1."""
    try:
        yield
    except OSError as exc:
        if exc.errno in NO_ROOM:  # a full disk is not a wrong setting: exit 3 (pipelines.disk_full)
            raise
        where = Path(exc.filename) if exc.filename else folder
        # "File exists" or "Not a directory" for a path through a file does not say which file.
        blocker = next((p for p in (where, *where.parents) if p.exists()), where)
        if not blocker.is_file():
            reason = exc.strerror or exc
        elif blocker == where:
            reason = "it is a file, not a folder"
        else:
            reason = f"{blocker} is a file, not a folder"
        raise InputError(Problem(
            f"cannot write {where} ({reason}); expected a folder funnelpact "
            f"can create and write into, or set {variable} to another path", file=str(folder),
            field=variable)) from None


def warehouse_tables(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    """(schema, table) of every table and view the warehouse holds: a reader checks for what
    an earlier load or build may not have written yet."""
    return {(schema, name) for schema, name in con.execute(
        "select table_schema, table_name from information_schema.tables").fetchall()}


@contextmanager
def connect(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    with writable(path.parent, ENV_VAR):
        path.parent.mkdir(parents=True, exist_ok=True)
    if not_a_database_file(path):
        raise not_a_warehouse(path)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise WarehouseLocked(Problem(
                "the warehouse is in use by another process (DuckDB allows one writer: a funnelpact run, "
                "or a DuckDB shell, notebook or BI tool holding the file open; DuckDB names it below); "
                f"wait for it to finish or close it, or point {ENV_VAR} elsewhere ({exc})",
                file=str(path),
            )) from None
        if "not a valid DuckDB database file" in str(exc):
            raise not_a_warehouse(path) from None
        if _damaged(exc):
            raise damaged_warehouse(path, exc) from None
        if "Permission denied" in str(exc):  # its mode, a read-only copy: a path the run cannot use
            verb = "read" if read_only else "write"
            raise InputError(Problem(
                f"cannot {verb} the warehouse (Permission denied); expected a file funnelpact can {verb}, "
                f"or set {ENV_VAR} to another path", file=str(path), field=ENV_VAR)) from None
        raise
    try:
        within_memory_limit(without_progress_bar(con))
        with interrupted_by_ctrl_c(con):
            yield con
    except duckdb.Error as exc:
        spill = path.with_name(path.name + ".tmp")  # DuckDB's temp_directory, when it spills
        if "Permission denied" in str(exc) and str(spill) in str(exc):
            raise InputError(Problem(
                "cannot write DuckDB's spill folder beside the warehouse (Permission denied), where it writes "
                "what does not fit in memory (FUNNELPACT_DUCKDB_MEMORY_LIMIT); expected a folder funnelpact can "
                f"write into, or set {ENV_VAR} to another path", file=str(spill), field=ENV_VAR)) from None
        # Met when a damaged block is read, at any statement: `raw_crm: Corrupt database file:
        # computed checksum …` (exit 3) named neither the file nor the way out.
        if not _damaged(exc):
            raise
        raise damaged_warehouse(path, exc) from None
    finally:
        con.close()


def _damaged(exc: duckdb.Error) -> bool:
    """DuckDB read a block whose checksum fails, or a file cut short (a copy that stopped half-way:
    `IO Error: Could not read enough bytes from file …` as it opens, which read as a bug, exit 3)."""
    return "Corrupt database file" in str(exc) or "Could not read enough bytes from file" in str(exc)


def damaged_warehouse(path: Path, exc: duckdb.Error) -> InputError:
    return InputError(Problem(
        f"the warehouse is damaged ({exc}): move it aside and run again; the load reloads the data "
        "directory in full and dbt rebuilds the facts, but the judgements of months the run does not "
        "judge go with the old file: judge them again with `funnelpact backfill`",
        file=str(path), field=ENV_VAR))


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
