"""Shared command-line plumbing: error reporting and output formats."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from enum import Enum

from rich.console import Console

from pipelines.errors import InputError

# Pipes and CI logs get 80 columns by default, which truncates wide scorecards.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, highlight=False)


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


@contextlib.contextmanager
def fail_on_input_errors(debug: bool = False) -> Iterator[None]:
    """Print bad input as one clear line per problem and exit 2; a traceback only with --debug."""
    try:
        yield
    except InputError as exc:
        if debug:
            raise
        for problem in exc.problems:
            err_console.print(f"[bold red]error[/] {problem}", soft_wrap=True)
        sys.exit(exc.exit_code)
