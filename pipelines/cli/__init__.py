"""The `funnelpact` command.

Each group of commands lives in its own module with a `register(app)` function. Heavy
libraries (dagster, dbt, great_expectations) are imported inside the commands that need
them, so `validate`, `plan`, `schema` and `diff` stay fast.
"""

from __future__ import annotations

import atexit
import gc
import os
import signal
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
from pipelines.cli.output import err_console, failure_message, report_input_error
from pipelines.errors import EXIT_FAILED, EXIT_INTERRUPTED, InputError, interrupted_query


class _FunnelpactGroup(TyperGroup):
    """Bad input becomes one clear line per problem and exit code 2 (a traceback only with --debug)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # `--out "$OUT"` with OUT unset: an empty path is the current folder (generate wrote its
        # tables there) and an empty --as-of was now. No option or argument of funnelpact is empty.
        for i, arg in enumerate(args):
            if arg == "" or (arg.startswith("--") and arg.endswith("=")):
                option = arg[:-1] if arg else args[i - 1] if i and args[i - 1].startswith("-") else None
                raise typer.BadParameter(f"{'an argument is' if option is None else 'it is'} empty "
                                         "(is a shell variable unset?)", ctx, param_hint=option)
        return super().parse_args(ctx, args)

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
            _interrupted(ctx)
        except (typer.Exit, typer.Abort, TyperException, click.exceptions.Exit, click.exceptions.Abort,
                click.ClickException):
            raise  # the command line's own ends (typer vendors click): an exit code chosen, a usage error
        except Exception as exc:
            if interrupted_query(type(exc).__name__, str(exc)):
                _interrupted(ctx)
            # Python's traceback and exit 1 read as a missed target (SPEC section 7), or for
            # `compile --check` as suites out of date: one line (`failure_message`) and exit 3.
            if ctx.params.get("debug"):
                traceback.print_exc()
            err_console.print(f"[bold red]error[/] {escape(failure_message(exc))}", soft_wrap=True)
            ctx.exit(EXIT_FAILED)


def _interrupted(ctx: click.Context) -> None:
    typer.echo("funnelpact: interrupted", err=True)
    ctx.exit(EXIT_INTERRUPTED)


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
    """sys.unraisablehook: Ctrl-C that lands in a finalizer or a weakref callback is the
    interrupt the command reports as "funnelpact: interrupted" with exit code 130, not a
    traceback ("Exception ignored in: <function WeakSet…>"). Python drops an exception raised
    there, and a Ctrl-C during a garbage collection (a pass over Dagster's and dbt's objects
    takes up to seconds) was lost: the run went on, alerted and exited 1. In the main thread,
    where Ctrl-C arrives, it is delivered again from another thread, so that it lands after
    the finalizer (raised here, in the hook, it would be dropped too) and reaches the handler
    in force (Dagster's, during a run). In another thread it is the stop of dbt's build
    (defs.dbt.stop_builds) and stays dropped. Anything else is printed as Python does."""
    if args.exc_type is not None and issubclass(args.exc_type, KeyboardInterrupt):
        if threading.current_thread() is threading.main_thread():
            # A signal, not _thread.interrupt_main: it also ends a wait (dbt's results, a sleep).
            again = threading.Timer(0.05, signal.pthread_kill, (threading.main_thread().ident, signal.SIGINT))
            again.daemon = True
            again.start()
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
        # rich's spinner may still be winding down, and tqdm's monitor (GX's progress bars start
        # it in the judgement) sleeps until the exit: they hold nothing. Counted, an interrupt
        # in the alerts step left by os._exit below, and Python's resource tracker printed a
        # "leaked semaphore objects" warning under "funnelpact: interrupted".
        lingering = [t for t in threading.enumerate() if t is not threading.current_thread()
                     and t.is_alive() and not type(t).__module__.startswith(("rich.", "tqdm."))]
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
