"""Options and argument parsing shared by the commands that run the pipeline or read its output."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, get_args

import click
import typer
from typer.core import TyperArgument, TyperCommand

from pipelines.errors import InputError, Problem

if TYPE_CHECKING:
    from pipelines.settings import Settings

# Every command's agreement folder when it is given none (pipelines.settings.default_sla_dir).
SLA_DEFAULT = "(default: $FUNNELPACT_SLA_DIR or sla/)"
# The metavar of a whole number with a least value (min=): Typer wrote its type "<int range>",
# which reads as taking a range ("0-90"); the least value follows it as "[x>=0]".
INT_METAVAR = "<int>"
# The metavars of a text value with a fixed shape, the same in every command: Typer wrote each
# "<str>", which does not say that `--month` takes 2026-03 and not "March", or `--as-of` an ISO
# 8601 instant. A pattern is shown as written (YYYY-MM), a kind of value as a type is (<tz>).
MONTH_METAVAR = "<YYYY-MM>"
DATE_METAVAR = "<YYYY-MM-DD>"
INSTANT_METAVAR = "<instant>"
TIMEZONE_METAVAR = "<tz>"

DataOption = Annotated[
    Path | None,
    typer.Option("--data", help="Data directory with the canonical tables (default: $FUNNELPACT_DATA_DIR or data/).",
                 show_default=False),
]
SlaOption = Annotated[
    Path | None, typer.Option("--sla", help=f"Agreement folder or file {SLA_DEFAULT}.", show_default=False)
]
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", metavar=INSTANT_METAVAR, help="Judge as of this instant (ISO 8601; no offset = UTC; whole seconds, a fraction is dropped). "
                 "Facts after it are ignored. Default: now.",
                 show_default=False),
]


class _ListArgument(TyperArgument):
    def display_type_rich(self, ctx: click.Context) -> str | None:
        (item,) = get_args(self.type_descriptor.annotation)
        return f"<{'path' if issubclass(item, Path) else item.__name__.lower()}>..."


class ListArgumentCommand(TyperCommand):
    """A command whose argument takes several values: its --help gives their type as an
    option's reads (`--sla <path>`), `PATH <path>...`. Typer (0.29) printed the Python
    annotation, `PATH <list[Path]>`, whatever the metavar."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if type(param) is TyperArgument and param.nargs == -1:
                # Only how its type is shown changes: a subclass without state of its own.
                param.__class__ = _ListArgument


def settings_for(data: Path | None, sla: Path | None) -> Settings:
    """The environment's settings, with --data and --sla taking precedence."""
    from pipelines.settings import Settings

    base = Settings.from_env()
    return replace(base, sla_dir=(sla or base.sla_dir).resolve(), data_dir=(data or base.data_dir).resolve())


def sla_path(sla: Path | None) -> Path:
    """--sla (a folder or a file), else the default agreement folder."""
    from pipelines.settings import default_sla_dir

    return default_sla_dir() if sla is None else sla


def as_of_instant(text: str | None) -> datetime:
    """--as-of as an aware UTC instant (default: now)."""
    from pipelines.agreement.months import parse_as_of

    try:
        return parse_as_of(text)
    except (ValueError, OverflowError):  # OverflowError: an offset past year 1 or 9999
        raise InputError(Problem(f"{text!r} is not an instant: expected ISO 8601 such as 2026-03-31T23:00:00Z",
                                 field="--as-of")) from None


def month_option(value: str | None, option: str) -> str | None:
    """An optional YYYY-MM option (None: not given), or exit 2 naming it."""
    from pipelines.agreement.months import require_month

    return None if value is None else require_month(value, option)
