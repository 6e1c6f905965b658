"""The Parquet parts of a table's folder must agree on the table's columns.

A naive timestamp part next to one with a time zone was shifted by the session's zone, a
part that added a column lost it without a word, and a part whose timestamps were epoch
numbers had every row quarantined. So each part must hold the same canonical columns as the
others, of the same kind: text, number, naive time, time with a zone, date, or the exact
type for anything else. Within a kind parts may differ (INTEGER and BIGINT, DECIMAL
precisions, TIMESTAMP_NS and TIMESTAMP): the reader unifies them by name
(`sources.reader_sql`). A column that is null in the whole part (pyarrow's `null` type) goes
with any kind. A part that does not agree is refused (exit 2) naming it, the column, and
what the other parts have. Only footers are read: one parquet_schema query.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import duckdb

from pipelines.data.sources import file_sql
from pipelines.data.tables import Table
from pipelines.errors import Problem

_INTEGER = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
            "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT")
ANY = "any"  # an all-null column


def kind(duckdb_type: str) -> str:
    """What the loader reads from a column of this type."""
    t = duckdb_type.upper().strip('"')
    if t == "NULL":
        return ANY
    if t in _INTEGER or t in ("FLOAT", "DOUBLE", "REAL") or t.startswith("DECIMAL"):
        return "number"
    if t.startswith("TIMESTAMP WITH TIME ZONE"):
        return "time with a zone"
    if t.startswith("TIMESTAMP"):
        return "naive time"
    if t == "VARCHAR":
        return "text"
    return t


def disagreeing(con: duckdb.DuckDBPyConnection, table: Table, parts: Sequence[Path],
                reference: Path | None = None) -> list[Problem]:
    """A problem per canonical column in which one of `parts` differs from `reference` (by
    default from what most parts have, so one odd part is the one named), and per column a
    part names twice."""
    schemas = canonical_columns(con, table, [*([reference] if reference else []), *parts])
    problems = [Problem(f"column '{column}' is named {n} times (names match ignoring case): expected it once",
                        file=file, field=column)
                for file, columns in schemas.items()
                for column, n in Counter(name for name, _ in columns).items() if n > 1]
    types = {file: dict(columns) for file, columns in schemas.items()}
    kinds = {file: {name: kind(type_) for name, type_ in columns.items()} for file, columns in types.items()}
    expected = kinds[str(reference)] if reference else _most_parts(list(kinds.values()))
    where = reference.name if reference else "the other parts"
    for part in parts:
        mine = kinds[str(part)]
        for column in table.column_names:
            if (column in mine) != (column in expected):
                what = (f"column '{column}' is missing, but it is in {where}" if column in expected
                        else f"column '{column}' ({types[str(part)][column]}) is not in {where}")
            elif column in mine and ANY not in (mine[column], expected[column]) and mine[column] != expected[column]:
                what = (f"column '{column}' is {types[str(part)][column]} ({mine[column]}), but "
                        f"{expected[column]} in {where}")
            else:
                continue
            problems.append(Problem(
                f"{what}: expected every part of {table.name}/ to have the same columns of the "
                "table, of the same kind (write this part as the others are written)",
                file=str(part), field=column))
    return problems


def _most_parts(kinds: list[dict[str, str]]) -> dict[str, str]:
    """The columns most parts have, each with the kind most of them hold; a tie goes the
    first part's way (the parts in file order)."""
    counts = Counter(column for k in kinds for column in k)
    expected = {}
    for column, n in counts.items():
        if 2 * n > len(kinds) or 2 * n == len(kinds) and column in kinds[0]:
            held = Counter(k[column] for k in kinds if k.get(column, ANY) != ANY)
            expected[column] = held.most_common(1)[0][0] if held else ANY
    return expected


def canonical_columns(con, table: Table, paths: Sequence[Path]) -> dict[str, list[tuple[str, str]]]:
    """Per file (as given): its canonical columns as (lower-cased name, DuckDB type), in order,
    a name the file repeats as often as it does."""
    files = "[" + ", ".join(file_sql(p) for p in paths) + "]"
    elements: dict[str, list[tuple[str, int, str]]] = {}
    for file, name, children, duckdb_type in con.execute(
            f"select file_name, name, num_children, duckdb_type from parquet_schema({files}) "
            "order by file_name, column_id").fetchall():
        elements.setdefault(file, []).append((name, children or 0, duckdb_type))
    return {file: [(name.strip().lower(), type_) for name, type_ in _top_level(schema[1:])
                   if name.strip().lower() in table.column_names]
            for file, schema in elements.items()}


def _top_level(elements: list[tuple[str, int, str]]) -> list[tuple[str, str]]:
    """The top-level columns of a Parquet schema, given its elements after the root in
    depth-first order: a struct's or a list's fields follow it, and must be skipped."""
    columns: list[tuple[str, str]] = []
    unseen: list[int] = []  # fields still to come, per nested level open
    for name, children, duckdb_type in elements:
        if unseen:
            unseen[-1] -= 1
        else:
            columns.append((name, duckdb_type))
        if children:
            unseen.append(children)
        while unseen and unseen[-1] == 0:
            unseen.pop()
    return columns
