"""SQL over the loader's working rows (`_fp_rows_<table>`): one text column `v_<name>` per
canonical column, without surrounding blanks (`without_blanks`). The full load and the append
check (incremental.py) must build the same expressions, or an appended load would stop
matching a full one."""

from __future__ import annotations

from pipelines.data import parsing
from pipelines.data.sources import ident, quote
from pipelines.data.tables import Column, Table

# What str.strip() removes (str.isspace): a tab or a no-break space around a value is as blank
# as a space (a tab alone is no contact id), and agreement.model.stage_value strips CRM values
# alike.
BLANKS = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
          "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
_BLANK = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in BLANKS) + "]"  # the same, as an RE2 class


def rows_table(table: Table) -> str:
    return f"_fp_rows_{table.name}"


def scratch_table(table: Table) -> str:
    """The copy of a CSV source that gives its rows their numbers (sources.read_as_text)."""
    return f"_fp_read_{table.name}"


def without_blanks(text: str) -> str:
    """SQL: `text` without surrounding blanks; NULL when nothing else is left."""
    # trim() with a set of characters costs 7x a plain trim (0.5 s more per 5M values): only
    # the values that start or end with a blank, found by a cheap regexp, take it.
    return (f"nullif(case when regexp_matches({text}, '^{_BLANK}|{_BLANK}$') "
            f"then trim({text}, {quote(BLANKS)}) else {text} end, '')")


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
    """The row as read, blanks around values removed, as the JSON text that raw.quarantine keeps."""
    fields = ", ".join(f"{ident(c)} := {text_column(c)}" for c in table.column_names)
    return f"cast(to_json(struct_pack({fields})) as varchar)"
