"""Tables written into a data directory all together, or not at all.

A command that writes several canonical tables (an import, `generate`) writes them into a
hidden folder inside --out and moves them into place only once every one is written: a
failure or Ctrl-C halfway leaves --out as it was. A move within one folder is a rename, so
the window in which --out holds a mix of old and new tables is the few renames at the end,
not the command.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from pipelines.data.sources import misnamed, require_utf8_path, table_paths
from pipelines.errors import InputError, Problem


class StagedFolder:
    """The tables `command` ("import", "generate") writes into `out` as `<table>.<fmt>`: each
    written at `path(table)`, then all moved in by `commit`, or dropped by `discard`.
    As a context manager: committed when the block ends normally, dropped when it raises."""

    def __init__(self, out: Path, tables: list[str], fmt: str, command: str) -> None:
        self.out, self.tables, self.fmt, self.command = Path(out), list(tables), fmt, command
        require_utf8_path(self.out, "an output folder whose path is UTF-8", "--out")
        self._refuse_tables_kept_in_other_shapes()
        self._created_out = not self.out.exists()
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            self.staging = Path(tempfile.mkdtemp(prefix=f".funnelpact-{command}-", dir=self.out))
        except OSError as exc:
            raise InputError(Problem(
                f"cannot write the folder ({exc.strerror or exc}); expected a folder funnelpact {command} "
                "can create and write into", file=str(self.out), field="--out")) from None

    def path(self, table: str) -> Path:
        assert table in self.tables, f"{table} is not among the tables declared for the output"
        return self.staging / f"{table}.{self.fmt}"

    def _refuse_tables_kept_in_other_shapes(self) -> None:
        """Refuse, before anything is written, an --out that holds a table this command writes
        in a shape it cannot replace. An import wrote contacts.csv beside a folder contacts/ of
        Parquet parts (the daily-append layout); the loader then found the table twice and
        every later run failed. Such a folder is the user's data: it is named, not deleted."""
        for table in self.tables:
            csv, parquet, folder = table_paths(self.out, table)
            if folder.exists():  # as find_source sees it: a folder, or a file read as Parquet
                shape = "a folder of Parquet parts" if folder.is_dir() else f"the file {table}"
                self._refuse(folder, f"holds the {table} table as {shape}, and funnelpact {self.command} "
                             f"writes {table}.{self.fmt}: the loader refuses a table given twice, "
                             "so every later run would fail")
            for target in (csv, parquet):
                # os.replace cannot put a file over a folder, nor unlink remove one: the
                # command failed half moved in.
                if target.is_dir():
                    self._refuse(target, f"is a folder, where funnelpact {self.command} writes (or "
                                 f"removes) the file {target.name} of the {table} table")
            if odd := misnamed(self.out, table, [p for p in (csv, parquet) if p.exists()]):
                self._refuse(odd, f"is named like the {table} table, which funnelpact {self.command} writes as "
                             f"{table}.{self.fmt}: the loader refuses a table given twice, so every later "
                             "run would fail")

    def _refuse(self, path: Path, why: str) -> None:
        raise InputError(Problem(
            f"{why}; expected an --out without it: {self.command} into an empty directory, or "
            f"move {path.name} out of {self.out}", file=str(path), field="--out"))

    def commit(self) -> None:
        """Move every staged table into place (a rename each), removing the table's file in the
        other format: the loader refuses a table given twice. Nothing else in the staging
        folder is moved: an import's UTF-8 copies of its exports go with the folder."""
        try:
            for staged in sorted(p for p in map(self.path, self.tables) if p.exists()):
                for target in table_paths(self.out, staged.stem)[:2]:  # <table>.csv, .parquet
                    if target.name != staged.name and target.exists():
                        target.unlink()
                os.replace(staged, self.out / staged.name)
        except OSError as exc:
            raise InputError(Problem(f"cannot replace the tables in the folder ({exc.strerror or exc})",
                                     file=str(self.out), field="--out")) from None
        finally:
            shutil.rmtree(self.staging, ignore_errors=True)

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
        if self._created_out:
            with contextlib.suppress(OSError):
                self.out.rmdir()  # only when empty: the folder this command made for nothing

    def __enter__(self) -> StagedFolder:
        self._terminated = _terminate_as_exit()
        self._signals = self._terminated.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if kind is None:
                self.commit()
            else:
                self.discard()
        finally:
            self._terminated.__exit__(None, None, None)
        if self._signals and kind is not None and not issubclass(kind, SystemExit):
            # SIGTERM inside a DuckDB query (an import's read): DuckDB stops the query and
            # raises its own "Query interrupted" in place of the handler's exit, which was
            # reported as an interruption (130). The exit is still the signal's.
            raise SystemExit(128 + self._signals[0])


@contextlib.contextmanager
def _terminate_as_exit() -> Iterator[list[int]]:
    """SIGTERM (`timeout`, `kill`, a CI job cancelled) as an exit that unwinds, so the staging
    folder is discarded as on Ctrl-C: Python's default ends the process at once, and a hidden
    .funnelpact-generate-… folder of half-written tables stayed in --out for good. The exit
    code stays the signal's, 143. Signal handlers belong to the main thread only. Yields the
    signals received."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def stop(signum: int, frame: object) -> None:
        received.append(signum)
        sys.stderr.write("funnelpact: terminated\n")
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield received
    finally:
        signal.signal(signal.SIGTERM, previous)
