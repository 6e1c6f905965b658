"""SQL over the loader's working rows (`_fp_rows_<table>`): one text column `v_<name>` per
canonical column, trimmed. The full load and the append check (incremental.py) must build
the same expressions, or an appended load would stop matching a full one."""

from __future__ import annotations

from pipelines.data import parsing
from pipelines.data.sources import ident
from pipelines.data.tables import Column, Table


def rows_table(table: Table) -> str:
    return f"_fp_rows_{table.name}"


def scratch_table(table: Table) -> str:
    """The copy of a CSV source that gives its rows their numbers (sources.read_as_text)."""
    return f"_fp_read_{table.name}"


def text_column(column: str) -> str:
    return f"v_{column}"


def typed_column(column: Column) -> str:
    """The working column holding `column`'s typed value (NULL when it cannot be typed)."""
    return f"t_{column.name}" if _needs_typing(column) else text_column(column.name)


def typed_columns(table: Table, stage_lookup: str) -> str:
    """The typed working columns, each computed once from its text column: the checks and
    the stored row read them (timestamp parsing is the costliest expression of a load)."""
    return ", ".join(
        f"{parsing.typed(c, text_column(c.name), stage_lookup)} as {typed_column(c)}"
        for c in table.columns if _needs_typing(c))


def _needs_typing(column: Column) -> bool:
    return column.is_stage or bool(column.allowed) or column.type in parsing.PARSERS


def typed_select(table: Table) -> str:
    """The typed columns of a table from its checked working columns."""
    return ", ".join(f"cast({typed_column(c)} as {c.type}) as {ident(c.name)}" for c in table.columns)


def record_json(table: Table) -> str:
    """The row as read, values trimmed, as the JSON text that raw.quarantine keeps."""
    fields = ", ".join(f"{ident(c)} := {text_column(c)}" for c in table.column_names)
    return f"cast(to_json(struct_pack({fields})) as varchar)"
