"""SQL over the loader's working rows (`_fp_rows_<table>`): one text column `v_<name>` per
canonical column, trimmed. The full load and the append check (incremental.py) must build
the same expressions, or an appended load would stop matching a full one."""

from __future__ import annotations

from pipelines.data import parsing
from pipelines.data.sources import ident
from pipelines.data.tables import Table


def rows_table(table: Table) -> str:
    return f"_fp_rows_{table.name}"


def text_column(column: str) -> str:
    return f"v_{column}"


def typed_select(table: Table) -> str:
    """The typed columns of a table from its checked text columns."""
    return ", ".join(
        f"cast({parsing.typed(c, text_column(c.name), '_stage')} as {c.type}) as {ident(c.name)}"
        for c in table.columns)


def record_json(table: Table) -> str:
    """The row as read, values trimmed, as the JSON text that raw.quarantine keeps."""
    fields = ", ".join(f"{ident(c)} := {text_column(c)}" for c in table.column_names)
    return f"cast(to_json(struct_pack({fields})) as varchar)"
