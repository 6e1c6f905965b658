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
# A git revision (diff's BASE and HEAD): a branch, a tag, a commit or HEAD~1, not any text.
REVISION_METAVAR = "<revision>"

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


class _Argument(TyperArgument):
    # Its value's metavar when the command gave one ("BASE <revision>"), else its type's.
    value_metavar: str | None = None

    def display_type_rich(self, ctx: click.Context) -> str | None:
        if self.value_metavar is not None:
            return self.value_metavar
        if self.nargs == -1:
            (item,) = get_args(self.type_descriptor.annotation)
            return f"<{'path' if issubclass(item, Path) else item.__name__.lower()}>..."
        return super().display_type_rich(ctx)

    def _usage_display_name(self) -> str:
        # Typer wrote a required argument in braces, `diff [OPTIONS] {BASE} [HEAD]`, which reads
        # as a choice or a placeholder to fill in; a usage line (and SPEC section 7) writes it bare.
        name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
        return name if self.nargs == 1 else f"{name}..."


class ArgumentCommand(TyperCommand):
    """A command whose arguments' --help reads as its options' does (`--sla <path>`): the
    argument's name, then its value's type in words. Typer (0.29) gave an argument's type as
    the Python annotation, `PATH <list[Path]>` or `BASE <str>`, whatever the metavar.

    An argument of several values shows its items' type, `PATH <path>...`. A metavar of two
    words names the argument and its value: `typer.Argument(metavar=f"BASE {REVISION_METAVAR}")`
    is the argument BASE (in the usage line and its errors), shown as `BASE <revision>`."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if type(param) is TyperArgument:
                # Only how it is shown changes: a subclass with a metavar for its value.
                param.__class__ = _Argument
                name, _, value_metavar = (param.metavar or "").partition(" ")
                if value_metavar:
                    param.metavar, param.value_metavar = name, value_metavar


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
