"""The Parquet parts of a table's folder must agree on the table's columns.

One read_parquet reads every part with the first part's column types and casts the others
to them: a naive timestamp part after one with a time zone was shifted by the session's
zone, a part that added a column lost it without a word, and a part whose timestamps were
epoch numbers had every row quarantined. So each part must hold the same canonical columns
as the others, of the same types; a part that does not is refused (exit 2) naming it, the
column, and what the other parts have. Only footers are read: one parquet_schema query.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from pipelines.data.sources import quote
from pipelines.data.tables import Table
from pipelines.errors import Problem


def disagreeing(con: duckdb.DuckDBPyConnection, table: Table, parts: Sequence[Path],
                reference: Path) -> list[Problem]:
    """A problem per canonical column in which one of `parts` differs from `reference`."""
    types = _canonical_types(con, table, [reference, *parts])
    expected = types[str(reference)]
    problems = []
    for part in parts:
        for column in table.column_names:
            found, wanted = types[str(part)].get(column), expected.get(column)
            if found == wanted:
                continue
            if found is None:
                what = f"column '{column}' is missing, but {reference.name} has it ({wanted})"
            elif wanted is None:
                what = f"column '{column}' ({found}) is not in {reference.name}"
            else:
                what = f"column '{column}' is {found}, but {wanted} in {reference.name}"
            problems.append(Problem(
                f"{what}: expected every part of {table.name}/ to have the same columns of the "
                "table, of the same types (write this part as the others are written)",
                file=str(part), field=column))
    return problems


def _canonical_types(con, table: Table, paths: Sequence[Path]) -> dict[str, dict[str, str]]:
    """Per file (as given): its canonical columns, lower-cased name -> DuckDB type."""
    files = "[" + ", ".join(quote(str(p)) for p in paths) + "]"
    elements: dict[str, list[tuple[str, int, str]]] = {}
    for file, name, children, duckdb_type in con.execute(
            f"select file_name, name, num_children, duckdb_type from parquet_schema({files}) "
            "order by file_name, column_id").fetchall():
        elements.setdefault(file, []).append((name, children or 0, duckdb_type))
    return {file: {name.strip().lower(): type_ for name, type_ in _top_level(schema[1:]).items()
                   if name.strip().lower() in table.column_names}
            for file, schema in elements.items()}


def _top_level(elements: list[tuple[str, int, str]]) -> dict[str, str]:
    """The top-level columns of a Parquet schema, given its elements after the root in
    depth-first order: a struct's or a list's fields follow it, and must be skipped."""
    columns: dict[str, str] = {}
    unseen: list[int] = []  # fields still to come, per nested level open
    for name, children, duckdb_type in elements:
        if unseen:
            unseen[-1] -= 1
        else:
            columns[name] = duckdb_type
        if children:
            unseen.append(children)
        while unseen and unseen[-1] == 0:
            unseen.pop()
    return columns
