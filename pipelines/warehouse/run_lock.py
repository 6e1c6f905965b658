"""One run at a time per warehouse, whoever starts it: DuckDB allows one writer.

A run holds an exclusive lock on `<warehouse>.lock` from its first step to its last. A CLI
run (`funnelpact run`, `backfill`, …) takes it before the job starts and fails at once when
another run has it: a person is waiting for the answer. A run the daemon or the UI launches
takes it when its resources start (`pipelines.defs.resources`) and waits: a 06:00 schedule
tick during an engineer's backfill runs after it, instead of failing a step on DuckDB's lock
or slipping in between the backfill's steps.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pipelines.errors import InputError, Problem
from pipelines.warehouse.connection import not_a_database_file, not_a_warehouse, writable
from pipelines.warehouse.duckdb_path import ENV_VAR

# The warehouses this process holds the lock of: the CLI holds it around the job it executes
# in-process, whose resources then find it held (flock would refuse a second descriptor).
_HELD: set[Path] = set()


@contextmanager
def run_lock(warehouse: Path, wait_seconds: float = 0,
             on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    path = warehouse.resolve()
    if path in _HELD:
        yield
        return
    if not_a_database_file(path):  # before a run starts; the steps' connect says the same
        raise not_a_warehouse(path)
    # The whole name and ".lock": with the suffix replaced, warehouse.eu and warehouse.us
    # shared one lock, and a warehouse named warehouse.lock was its own lock, emptied by it.
    lock_path = path.with_name(path.name + ".lock")
    with writable(lock_path.parent, ENV_VAR):
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(lock_path, "w")
    with handle:
        _acquire(handle, path, wait_seconds, on_wait)
        _HELD.add(path)
        try:
            yield
        finally:
            _HELD.discard(path)
            fcntl.flock(handle, fcntl.LOCK_UN)


def _acquire(handle, path: Path, wait_seconds: float, on_wait: Callable[[str], None] | None) -> None:
    deadline = time.monotonic() + wait_seconds
    told = False
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                waited = f" (waited {wait_seconds / 60:g} min)" if wait_seconds else ""
                raise InputError(Problem(
                    f"another funnelpact run is using this warehouse{waited} (DuckDB allows one writer): "
                    "wait for it to finish, or set FUNNELPACT_DUCKDB_PATH to another file",
                    file=str(path), field=ENV_VAR if wait_seconds else None)) from None
            if on_wait and not told:
                on_wait(f"waiting for another funnelpact run to finish with {path} (DuckDB allows one writer)")
                told = True
            time.sleep(0.5)
