"""Where an import writes: canonical CSV files in --out, all of them or none, never over one of
the exports it reads.

The tables are written into a hidden folder inside --out and moved into place only once every
table is written: a bad --tasks file found after contacts were converted leaves --out as it
was. A move within one folder is a rename, so the window in which --out holds a mix of old and
new tables is the few renames at the end, not the import.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.data.parsing import PARSERS
from pipelines.data.row_sql import without_blanks
from pipelines.data.sources import find_source, ident, quote, reader_sql, table_paths
from pipelines.data.tables import TABLES
from pipelines.errors import InputError, Problem


@dataclass(frozen=True)
class Input:
    """An export an import reads, and what named it: an option (--contacts) or a mapping field
    (tables.contacts.file, with `named_in` the mapping)."""

    path: Path
    field: str
    named_in: Path | None = None

    def problem(self, message: str) -> Problem:
        if self.named_in is None:
            return Problem(message, file=str(self.path), field=self.field)
        return Problem(f"{self.path}: {message}", file=str(self.named_in), field=self.field)


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)  # hard links
    except OSError:
        return False


def _targets(out: Path, table: str) -> tuple[Path, Path]:
    """The files an import writes for `table`: its CSV, and the stale Parquet copy, which it
    removes (the loader refuses a table given twice), so it counts too."""
    csv, parquet, _folder = table_paths(out, table)
    return csv, parquet


class Output:
    """The canonical tables an import writes into `out`: staged, then moved into place together
    (`commit`), or dropped (`discard`) when the import fails."""

    def __init__(self, out: Path, tables: list[str], inputs: list[Input]) -> None:
        self.out, self.tables = Path(out), list(tables)
        self._refuse_inputs_among_outputs(inputs)
        self._refuse_tables_kept_in_other_shapes()
        self._created_out = not self.out.exists()
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            self.staging = Path(tempfile.mkdtemp(prefix=".funnelpact-import-", dir=self.out))
        except OSError as exc:
            raise InputError(Problem(
                f"cannot write the folder ({exc.strerror or exc}); expected a folder the import "
                "can create and write into", file=str(self.out), field="--out")) from None

    def _refuse_inputs_among_outputs(self, inputs: list[Input]) -> None:
        """Writing contacts.csv over the contacts export it reads would lose the export."""
        for given in inputs:
            for table in self.tables:
                for target in _targets(self.out, table):
                    if _same_file(given.path, target):
                        raise InputError(given.problem(
                            f"is the file this import writes for the {table} table ({target}); "
                            "expected an export outside the output folder, or another --out"))

    def _refuse_tables_kept_in_other_shapes(self) -> None:
        """Refuse, before anything is written, an --out that holds a table this import writes in
        a shape the import cannot replace. The import wrote contacts.csv beside a folder
        contacts/ of Parquet parts (the daily-append layout); the loader then found the table
        twice and every later run failed. Such a folder is the user's data: it is named, not
        deleted."""
        for table in self.tables:
            csv, parquet, folder = table_paths(self.out, table)
            if folder.exists():  # as find_source sees it: a folder, or a file read as Parquet
                shape = "a folder of Parquet parts" if folder.is_dir() else f"the file {table}"
                self._refuse(folder, f"holds the {table} table as {shape}, and this import writes "
                             f"{table}.csv: the loader refuses a table given twice, so every later "
                             "run would fail")
            for target in (csv, parquet):
                # os.replace cannot put a file over a folder, nor unlink remove one: the
                # import failed half moved in.
                if target.is_dir():
                    self._refuse(target, f"is a folder, where this import writes (or removes) the "
                                 f"file {target.name} of the {table} table")

    def _refuse(self, path: Path, why: str) -> None:
        raise InputError(Problem(
            f"{why}; expected an --out without it: import into an empty directory, or move "
            f"{path.name} out of {self.out}", file=str(path), field="--out"))

    def write(self, con: duckdb.DuckDBPyConnection, table: str, select: dict[str, str],
              from_sql: str, keep_as: str | None = None) -> int:
        """Stage `select` (canonical column -> SQL) as <table>.csv; returns the rows written.
        `keep_as` keeps the rows as a temp table of that name for later steps of the import."""
        assert table in self.tables, f"{table} is not among the tables declared for the output"
        cols = ", ".join(f"{select.get(c, 'null')} as {ident(c)}" for c in TABLES[table].column_names)
        name = keep_as or "_fp_out"
        con.execute(f"create or replace temp table {name} as select {cols} from {from_sql}")
        con.execute(f"copy {name} to {quote(str(self.staging / f'{table}.csv'))} (header, delimiter ',')")
        rows = con.execute(f"select count(*) from {name}").fetchone()[0]
        if keep_as is None:
            con.execute(f"drop table {name}")
        return rows

    def commit(self) -> None:
        """Move every staged table into place (a rename each), dropping stale Parquet copies."""
        try:
            for staged in sorted(self.staging.iterdir()):  # <table>.csv each
                csv, stale = _targets(self.out, staged.stem)
                if stale.exists():
                    stale.unlink()
                os.replace(staged, csv)
        except OSError as exc:
            raise InputError(Problem(f"cannot replace the tables in the folder ({exc.strerror or exc})",
                                     file=str(self.out), field="--out")) from None
        finally:
            shutil.rmtree(self.staging, ignore_errors=True)

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
        if self._created_out:
            with contextlib.suppress(OSError):
                self.out.rmdir()  # only when empty: the folder this import made for nothing


def unread_times(out: Path, table: str) -> dict[str, tuple[int, int, str]]:
    """Timestamp or date column -> (values the loader cannot read, rows, column type) in
    out/<table>.csv: values no format or rule of the import read, kept as they were."""
    columns = [(c.name, c.type) for c in TABLES[table].columns if c.type in ("timestamp", "date")]
    if not columns:
        return {}
    def unread(column: str, kind: str) -> str:
        value = without_blanks(ident(column))  # as the loader takes it
        return f"count({value}) filter (where {PARSERS[kind](value)} is null)"

    counted = ", ".join(unread(c, t) for c, t in columns)
    with duckdb.connect() as con:  # the file as the loader will read it
        counts = con.execute(f"select {counted}, count(*) from {reader_sql(find_source(out, table))}").fetchone()
    return {c: (n, counts[-1], t) for (c, t), n in zip(columns, counts[:-1], strict=True) if n}
