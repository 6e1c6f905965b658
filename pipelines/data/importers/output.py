"""Where an import writes: canonical CSV files in --out, all of them or none
(`pipelines.data.staged_folder`: a bad --tasks file found after contacts were converted leaves
--out as it was), never over one of the exports it reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.data.parsing import PARSERS
from pipelines.data.row_sql import without_blanks
from pipelines.data.sources import (find_source, ident, quote, reader_sql, require_utf8_path, same_file,
                                    table_paths)
from pipelines.data.staged_folder import StagedFolder
from pipelines.data.tables import TABLES
from pipelines.errors import InputError, Problem
from pipelines.warehouse.connection import within_memory_limit, without_progress_bar


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


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for an import, within FUNNELPACT_DUCKDB_MEMORY_LIMIT and without the
    progress bar DuckDB draws on stdout."""
    return within_memory_limit(without_progress_bar(duckdb.connect()))


class Output(StagedFolder):
    """The canonical tables an import writes into `out` as CSV: staged, then moved into place
    together (`commit`), or dropped (`discard`) when the import fails."""

    def __init__(self, out: Path, tables: list[str], inputs: list[Input]) -> None:
        for given in inputs:
            require_utf8_path(given.path, "an export whose path is UTF-8", given.field)
        _refuse_inputs_among_outputs(Path(out), tables, inputs)
        super().__init__(out, tables, "csv", "import")

    def write(self, con: duckdb.DuckDBPyConnection, table: str, select: dict[str, str],
              from_sql: str, as_table: str) -> int:
        """Stage `select` (canonical column -> SQL) as <table>.csv, its rows kept as the temp
        table `as_table` for the import's later steps and checks; returns the rows written."""
        cols = ", ".join(f"{select.get(c, 'null')} as {ident(c)}" for c in TABLES[table].column_names)
        con.execute(f"create or replace temp table {as_table} as select {cols} from {from_sql}")
        con.execute(f"copy {as_table} to {quote(str(self.path(table)))} (header, delimiter ',')")
        return con.execute(f"select count(*) from {as_table}").fetchone()[0]


def _refuse_inputs_among_outputs(out: Path, tables: list[str], inputs: list[Input]) -> None:
    """Writing contacts.csv over the contacts export it reads would lose the export."""
    for given in inputs:
        for table in tables:
            for target in table_paths(out, table)[:2]:  # its CSV, and the stale Parquet it removes
                if same_file(given.path, target):
                    raise InputError(given.problem(
                        f"is the file this import writes for the {table} table ({target}); "
                        "expected an export outside the output folder, or another --out"))


def unread_values(out: Path, table: str) -> dict[str, tuple[int, int, str, str]]:
    """Typed column (time, date, number) -> (values the loader cannot read, rows, column type,
    the first such value) in out/<table>.csv: values no format or rule of the import read, or
    amounts as a spreadsheet formats them ('$1,234.50'), kept as they were."""
    columns = [(c.name, c.type) for c in TABLES[table].columns if c.type in PARSERS]
    if not columns:
        return {}
    def unread(column: str, kind: str) -> str:
        value = without_blanks(ident(column))  # as the loader takes it
        bad = f"{value} is not null and {PARSERS[kind](value)} is null"
        return f"count(*) filter (where {bad}), first({value}) filter (where {bad})"

    counted = ", ".join(unread(c, t) for c, t in columns)
    with connect() as con:  # the file as the loader will read it
        found = con.execute(f"select {counted}, count(*) from {reader_sql(find_source(out, table))}").fetchone()
    return {c: (found[2 * i], found[-1], t, found[2 * i + 1])
            for i, (c, t) in enumerate(columns) if found[2 * i]}
