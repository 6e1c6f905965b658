"""What a failed write to the state on disk means: no room left (the disk, a quota or a file
size limit is full), or a SQLite state file that cannot be used (`sqlite_trouble`).

Where it happens decides how it surfaces. In a step (the load, dbt, the judgement) DuckDB's
error fails the step and the run exits 3 with it. Outside the steps, Dagster's own writes to
its home (the run's events, the run index) and the run's log file raise through
`execute_in_process`: that was a Python traceback and exit 1, the code of a missed target
(SPEC §7), or an abort (exit 134) with dbt's thread still inside DuckDB. This module
recognises the condition in an exception's chain and words it for the command line.
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator

# ENOSPC: the disk is full; EDQUOT: the user's quota; EFBIG: a file size limit (ulimit -f).
NO_ROOM = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
# SQLite (Dagster's home, the alert state) says SQLITE_FULL on ENOSPC, and a disk I/O error
# when a write to its WAL fails half-way (EFBIG, or ENOSPC met while extending the file).
SQLITE_NO_ROOM = ("database or disk is full", "disk I/O error")


class DiskFull(Exception):
    """A write failed for lack of room: the run failed (exit 3), not bad input."""

    def __init__(self, where: str | None):
        self.where = where
        place = f" writing {where}" if where else ""
        super().__init__(
            f"no room left on the disk{place} (no space left, a quota or a file size limit): free space there "
            "and run again; `funnelpact prune-runs` deletes old runs from the Dagster home (docs/operations.md)")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, then what caused it (raised from, or during the handling of), once each."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def no_room(exc: BaseException) -> DiskFull | None:
    """The DiskFull behind an exception, following its causes, or None."""
    for current in _chain(exc):
        if isinstance(current, DiskFull):
            return current
        if isinstance(current, OSError) and current.errno in NO_ROOM:
            return DiskFull(current.filename)
        if isinstance(current, sqlite3.OperationalError) and str(current) in SQLITE_NO_ROOM:
            return DiskFull(None)  # SQLite does not name its file: the caller knows the place
    return None


def sqlite_trouble(exc: BaseException) -> tuple[str, sqlite3.DatabaseError] | None:
    """What keeps a SQLite state file (Dagster's home, the alert state) from being used, behind
    an exception or its causes, with SQLite's error: `readonly` (its mode, a read-only copy),
    `locked` (another process held it past the wait) or `damaged` (not a database, malformed);
    None for anything else, a full disk included (`no_room`)."""
    for current in _chain(exc):
        if isinstance(current, sqlite3.OperationalError):
            text = str(current)
            kind = "readonly" if "readonly" in text else "locked" if "locked" in text else None
            return (kind, current) if kind else None
        if isinstance(current, sqlite3.DatabaseError):
            return "damaged", current
    return None
