"""The `funnelpact` command.

Each group of commands lives in its own module with a `register(app)` function. Heavy
libraries (dagster, dbt, great_expectations) are imported inside the commands that need
them, so `validate`, `plan`, `schema` and `diff` stay fast.
"""

from __future__ import annotations

import sys

import typer

from pipelines.cli import agreement_cmds, data_cmds, pipeline_cmds
from pipelines.cli.output import fail_on_input_errors

app = typer.Typer(
    name="funnelpact",
    help="SLA-as-code for the marketing <-> sales agreement.\n\n"
    "The agreement lives as YAML in sla/; funnelpact validates it, plans the monthly "
    "targets, turns CRM data into funnel facts and judges them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

for module in (agreement_cmds, data_cmds, pipeline_cmds):
    module.register(app)


def main() -> None:
    debug = "--debug" in sys.argv
    if debug:
        sys.argv.remove("--debug")
    with fail_on_input_errors(debug=debug):
        app()
