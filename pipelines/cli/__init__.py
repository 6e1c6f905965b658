"""The `funnelpact` command.

Each group of commands lives in its own module with a `register(app)` function. Heavy
libraries (dagster, dbt, great_expectations) are imported inside the commands that need
them, so `validate`, `plan`, `schema` and `diff` stay fast.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
import threading
import traceback
from typing import Annotated

import click
import typer
from rich.markup import escape
from typer.core import TyperGroup
from typer.exceptions import TyperException

from pipelines.cli import agreement_cmds, alert_cmds, check_cmds, data_cmds, pipeline_cmds, report_cmds
from pipelines.cli.output import err_console, report_input_error
from pipelines.disk_full import no_room
from pipelines.errors import EXIT_FAILED, EXIT_INTERRUPTED, InputError


class _FunnelpactGroup(TyperGroup):
    """Bad input becomes one clear line per problem and exit code 2 (a traceback only with --debug)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except InputError as exc:
            if ctx.params.get("debug"):  # the traceback, and still the exit code of bad input
                traceback.print_exc()
            report_input_error(exc)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            # click would print "Aborted!" and exit 1, the code of a fail-severity breach.
            typer.echo("funnelpact: interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except (typer.Exit, typer.Abort, TyperException, click.exceptions.Exit, click.exceptions.Abort,
                click.ClickException):
            raise  # the command line's own ends (typer vendors click): an exit code chosen, a usage error
        except Exception as exc:
            if _interrupted_query(exc):  # Ctrl-C inside a DuckDB query: an interruption, no bug
                typer.echo("funnelpact: interrupted", err=True)
                ctx.exit(EXIT_INTERRUPTED)
            # Python's traceback and exit 1 read as a missed target (SPEC section 7), or for
            # `compile --check` as suites out of date. A full disk is no bug and no bad input: one
            # line naming the place. Anything else is a bug: one line, the traceback on --debug.
            if ctx.params.get("debug"):
                traceback.print_exc()
            full = no_room(exc)
            message = str(full) if full else (
                f"funnelpact failed unexpectedly ({type(exc).__name__}: {exc}); this is a bug: run the "
                "command again with --debug for the traceback, and report it")
            err_console.print(f"[bold red]error[/] {escape(message)}", soft_wrap=True)
            ctx.exit(EXIT_FAILED)


def _interrupted_query(exc: Exception) -> bool:
    """Whether `exc` is DuckDB's answer to Ctrl-C: a query running when SIGINT arrives stops
    and raises RuntimeError("Query interrupted") in place of KeyboardInterrupt. An import of a
    large export spends nearly all its time in queries, so its Ctrl-C was reported as a bug
    (exit 3) and not as an interruption (exit 130)."""
    return type(exc).__name__ in ("RuntimeError", "InterruptException") and str(exc) == "Query interrupted"


app = typer.Typer(
    name="funnelpact",
    cls=_FunnelpactGroup,
    help="SLA-as-code for the marketing <-> sales agreement.\n\n"
    "The agreement lives as YAML in sla/; funnelpact validates it, plans the monthly "
    "targets, turns CRM data into funnel facts and judges them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option("--debug", help="Show the full traceback of errors.")] = False,
) -> None:
    """SLA-as-code for the marketing <-> sales agreement."""


for module in (agreement_cmds, data_cmds, pipeline_cmds, report_cmds, check_cmds, alert_cmds):
    module.register(app)


def quiet_interrupts(args) -> None:
    """sys.unraisablehook: Ctrl-C that lands in a finalizer or a weakref callback (objects of
    Dagster and dbt are collected while an interrupted run winds down) is the interrupt the
    command reports as "funnelpact: interrupted" with exit code 130, not a traceback
    ("Exception ignored in: <function WeakSet…>"). Anything else is printed as Python does."""
    if args.exc_type is not None and issubclass(args.exc_type, KeyboardInterrupt):
        return
    sys.__unraisablehook__(args)


def legible_on_any_terminal() -> None:
    """Text a terminal's encoding cannot show is written as its escape (\\u2014), not raised:
    under an ASCII locale (LANG=C without Python's coercion to UTF-8) the scorecard's em dash
    ended a finished run with exit 3 before its table. JSON output is ASCII already."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
        if not encoding.startswith("utf") and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


def main() -> None:
    legible_on_any_terminal()
    # Dagster, dbt and GX leave millions of objects behind; the interpreter's last garbage
    # collection walked them for ~2 s after every run. Frozen objects are skipped, and the
    # process is ending anyway.
    atexit.register(gc.freeze)
    sys.unraisablehook = quiet_interrupts
    try:
        app()
    except SystemExit as exc:
        # rich's spinner may still be winding down: it holds nothing.
        lingering = [t for t in threading.enumerate() if t is not threading.current_thread()
                     and t.is_alive() and not type(t).__module__.startswith("rich.")]
        if exc.code == EXIT_INTERRUPTED and lingering:
            # An interrupted run waits for dbt's threads (defs.dbt.stop_builds); one still
            # inside DuckDB at the interpreter's exit would abort the process (SIGABRT, exit
            # 134). Leave without that exit: the run is recorded as failed, the warehouse
            # lock goes with the process, and DuckDB's write-ahead log drops the unfinished
            # transaction.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(EXIT_INTERRUPTED)
        raise
