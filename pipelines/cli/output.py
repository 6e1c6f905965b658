"""Shared command-line plumbing: error reporting and output formats."""

from __future__ import annotations

import os
import sys
from enum import Enum

import typer
from rich.box import Box
from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table
from typer import rich_utils as typer_rich

from pipelines.disk_full import no_room
from pipelines.errors import InputError, Problem
from pipelines.warehouse.memory_limit import out_of_memory_hint


def _reader_gone(stream) -> None:
    """The reader of a pipe has left (`funnelpact run | head`): the rest of the output goes
    nowhere and the command ends as it would have, with its own exit code. Rich exited 1, a
    fail-severity breach (SPEC section 7), and a plain write was reported as a bug (exit 3)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, stream.fileno())
    os.close(devnull)


class _Console(Console):
    def on_broken_pipe(self) -> None:
        self.quiet = True
        _reader_gone(self.file)


# typer draws --help, usage errors and "Aborted!" on consoles of its own, which rich ends with
# exit 1 when their reader has gone (`funnelpact --help | head -1`): they are _Consoles too.
typer_rich.Console = _Console

# typer shows every option's type in --help, flags too: `--debug <bool>` and `--dry-run <bool>`
# read as options that take a value, and `--dry-run true` was "Got unexpected extra argument".
_option_type = typer.core.TyperOption.display_type_rich


def _no_type_for_a_flag(self: typer.core.TyperOption, ctx) -> str | None:
    return None if self.is_flag else _option_type(self, ctx)


typer.core.TyperOption.display_type_rich = _no_type_for_a_flag


def echo(text: str, nl: bool = True) -> None:
    """A document for machines (JSON, CSV, Markdown) on stdout, as rendered: no markup, no wrapping."""
    try:
        typer.echo(text, nl=nl)
    except BrokenPipeError:
        _reader_gone(sys.stdout)


def _console(stream) -> Console:
    """Pipes and CI logs get 80 columns by default, which truncates wide scorecards: 160. And
    a line of text stays one line there (a message that names a long path was cut in two,
    and a grep for it found half); tables are drawn at the width either way."""
    tty = stream.isatty()
    return _Console(stderr=stream is sys.stderr, highlight=False, emoji=False, width=None if tty else 160,
                   soft_wrap=not tty)


console = _console(sys.stdout)
err_console = _console(sys.stderr)


def print_table(table: Table, *narrower: Table) -> None:
    """A table whose every cell is shown whole. Rich cuts what does not fit the width short
    (`999,999,…`, a KPI id of two long stage ids): in a pipe or a CI log the table is drawn
    at its own width instead. At a terminal, the first of `table` and its `narrower` layouts
    that fits is drawn; if none does, the last, and a cell too wide folds onto a second line."""
    layouts = (table, *narrower)
    if console.is_terminal:
        table = next(filter(_fits, layouts), layouts[-1])
    for column in table.columns:
        column.overflow = "fold"
    if console.is_terminal:
        if isinstance(table.title, str):
            width = console.width if table.expand else min(_natural_width(table), console.width)
            table.title = _title_lines(table.title, width)
        console.print(table)
        return
    width = console.width  # print(width=) only narrows: widen the console for this table
    console.width = max(width, _natural_width(table))
    try:
        console.print(table)
    finally:
        console.width = width


# A title of parts (`sales — as of … · 2026-03 · revision 2026-h1 · severity fail`). Rich
# wraps a title at the table's width, between any two words: "· severity" / "fail".
TITLE_SEPARATOR = " · "


def _title_lines(title: str, width: int) -> str:
    """`title` broken between its parts, each line as full as `width` allows."""
    parts = title.split(TITLE_SEPARATOR)
    mark = TITLE_SEPARATOR.rstrip()  # ends every line but the last: the title goes on
    lines = [parts[0]]
    for i, part in enumerate(parts[1:], 2):
        joined = lines[-1] + TITLE_SEPARATOR + part
        if cell_len(joined + (mark if i < len(parts) else "")) <= width:
            lines[-1] = joined
        else:
            lines.append(part)
    return (mark + "\n").join(lines)


# Rules under the header and above a last section, none between the columns: a column costs
# its widest cell and two spaces, not three (sla/'s plans drawn so are 80 columns wide, not 92).
_UNRULED = Box("    \n    \n ━━ \n    \n ── \n    \n    \n    \n")


def unruled(table: Table) -> Table:
    """`table` drawn without rules between its columns: a narrower layout for print_table."""
    table.box, table.show_edge, table.pad_edge, table.collapse_padding = _UNRULED, False, False, True
    return table


def too_narrow(*layouts: Table) -> bool:
    """Whether the terminal is too narrow for every one of `layouts` (never in a pipe, where a
    table is drawn at its own width): print_table would fold the last one's wide cells."""
    return console.is_terminal and not any(map(_fits, layouts))


def _fits(table: Table) -> bool:
    return _natural_width(table) <= console.width


def _natural_width(table: Table) -> int:
    return Measurement.get(console, console.options.update(width=10**5), table).maximum


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


class ScorecardFormat(str, Enum):
    table = "table"
    json = "json"


class DiffFormat(str, Enum):
    markdown = "markdown"
    json = "json"


def say(text: str) -> None:
    """A 'funnelpact: …' line on stderr, as plain text: it names paths, months and notes
    that may hold brackets, which rich would read as markup."""
    err_console.print(f"funnelpact: {text}", markup=False)


def report_warning(problem: Problem) -> None:
    err_console.print(f"[bold yellow]warning[/] {escape(str(problem))}", soft_wrap=True)


def report_input_error(exc: InputError) -> None:
    # What the command noted before it stopped (an import's warnings): first, as on success.
    for note in getattr(exc, "__notes__", ()):
        err_console.print(note, markup=False, highlight=False, soft_wrap=True)
    for problem in exc.problems:
        err_console.print(f"[bold red]error[/] {escape(str(problem))}", soft_wrap=True)


def failure_message(exc: Exception) -> str:
    """What the command says of an exception that is neither bad input nor an interrupt: a full
    disk, or DuckDB out of the memory FUNNELPACT_DUCKDB_MEMORY_LIMIT allows (an import's), is no
    bug and no bad input: one line naming the place or the limit. Anything else is a bug: one
    line, the traceback on --debug. The channels told of a run that failed so quote it too."""
    if full := no_room(exc):
        return str(full)
    if too_little := out_of_memory_hint(str(exc)):
        return str(exc).splitlines()[0] + too_little
    return (f"funnelpact failed unexpectedly ({type(exc).__name__}: {exc}); this is a bug: run the "
            "command again with --debug for the traceback, and report it")
