"""Shared command-line plumbing: error reporting and output formats."""

from __future__ import annotations

import sys
from enum import Enum

from rich.console import Console
from rich.markup import escape

from pipelines.errors import InputError, Problem

# Pipes and CI logs get 80 columns by default, which truncates wide scorecards.
console = Console(highlight=False, emoji=False, width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, highlight=False, emoji=False, width=None if sys.stderr.isatty() else 160)


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
    for problem in exc.problems:
        err_console.print(f"[bold red]error[/] {escape(str(problem))}", soft_wrap=True)
