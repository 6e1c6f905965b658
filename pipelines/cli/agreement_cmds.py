"""Commands on the agreement itself: validate, schema, plan, diff. No heavy imports here."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from pipelines.cli.options import MONTH_METAVAR, REVISION_METAVAR, SLA_DEFAULT, ArgumentCommand, sla_path
from pipelines.cli.output import DiffFormat, Format, console, echo, report_warning

# The authoring commands read a folder or one file; given none, the same folder as the
# pipeline commands (cli/options.py), so `validate` checks what `run` judges.
SlaPathOption = Annotated[
    Path | None,
    typer.Option("--sla", help=f"Folder (or file) holding the agreement YAML files {SLA_DEFAULT}.", show_default=False),
]


def register(app: typer.Typer) -> None:
    app.command(cls=ArgumentCommand,
                epilog="Examples: funnelpact validate; funnelpact validate sla/acme-2026-h1.yaml sla/acme-2026-h2.yaml")(validate)
    app.command(epilog="Example: funnelpact schema > agreement.schema.json")(schema)
    app.command(epilog="Examples: funnelpact plan; funnelpact plan --month 2026-03 --format json")(plan)
    app.command(cls=ArgumentCommand,
                epilog="Examples: funnelpact diff origin/main; funnelpact diff HEAD~1 HEAD --format json")(diff)


def validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(metavar="PATH", help=f"Agreement files or folders to check {SLA_DEFAULT}.", show_default=False),
    ] = None,
) -> None:
    """Validate agreements: their shape (schema) and their meaning (rates, windows, stages, secrets).

    Every problem is listed with its file, line and field; the exit code is 2 if there is any.
    A valid value that is most likely a slip (a goal written 600.000 for 600 000, a timezone
    Etc/GMT+5 meant as UTC+5, seasonality weights written as percentages, an alert channel listed
    twice, a CRM name the importers write as a stage id, a file named for another revision than
    it holds, months between two revisions that no revision is in force in) gets a warning on
    stderr, and the exit code stays 0.
    """
    from pipelines.agreement import load_agreements
    from pipelines.agreement.advice import advise, advise_revisions

    agreements = load_agreements(paths or [sla_path(None)])
    for a in agreements:
        console.print(
            f"[green]ok[/] {escape(str(a.source_file))}: {escape(a.name)} {escape(a.revision)} "
            f"({a.spec.effective.from_}..{a.spec.effective.to}, {len(a.spec.stages)} stages)"
        )
        for problem in advise(a):
            report_warning(problem)
    for problem in advise_revisions(agreements):
        report_warning(problem)


def schema() -> None:
    """Print the JSON Schema of an agreement file, for editors and other tools.

    The sla/ files point at the copy shipped in the package with a
    `# yaml-language-server: $schema=` comment, so editors autocomplete and check keys.
    """
    from pipelines.agreement.schema import render_schema

    echo(render_schema(), nl=False)


def plan(
    sla: SlaPathOption = None,
    month: Annotated[str | None, typer.Option(metavar=MONTH_METAVAR, help="Show one month only (YYYY-MM; default: every month of every window).", show_default=False)] = None,
    format: Annotated[Format, typer.Option(
        "--format", "-f",
        help="table for people; json or csv for machines, each month with its revision's currency (csv: one row "
             "per month; the window's totals are in table and json).")] = Format.table,
) -> None:
    """The reverse funnel: each month's revenue, customers and volume target per stage.

    Targets follow from the revenue goal, the deal size, the seasonality weights and the
    agreed conversion rates, computed in exact arithmetic and rounded up; explicit targets
    (marked *) replace derived ones.
    """
    from pipelines.agreement import load_agreements
    from pipelines.agreement.load import require_in_force
    from pipelines.agreement.months import require_month
    from pipelines.agreement.plan import plan as build_plan
    from pipelines.agreement.plan import plan_window
    from pipelines.cli import plan_output

    if month is not None:
        require_month(month, "--month")
    agreements = load_agreements(sla_path(sla))
    months = build_plan(agreements)
    if month is not None:
        require_in_force(agreements, [month], "--month")
        months = [m for m in months if m.period == month]
    windows = [] if month else [plan_window(a) for a in agreements]
    plan_output.emit(agreements, months, windows, format)
    if month is None:
        # The plan lists the months of each revision; one between two windows has no row in
        # any table and is easily not missed. On stderr, so JSON and CSV stay documents.
        from pipelines.agreement.advice import advise_revisions

        for problem in advise_revisions(agreements):
            report_warning(problem)


def diff(
    base: Annotated[str, typer.Argument(metavar=f"BASE {REVISION_METAVAR}", help="Git revision to compare from, e.g. origin/main.")],
    head: Annotated[
        str | None,
        typer.Argument(metavar=f"HEAD {REVISION_METAVAR}", help="Git revision to compare to (default: the working tree).", show_default=False),
    ] = None,
    sla: Annotated[Path | None, typer.Option(
        "--sla", help=f"Agreement folder inside a git repository {SLA_DEFAULT}; the revisions are that "
        "repository's.", show_default=False)] = None,
    format: Annotated[DiffFormat, typer.Option("--format", "-f", help="markdown (for a pull-request comment) or json.")] = DiffFormat.markdown,
) -> None:
    """What changed in the agreements between two git revisions, and its effect on every monthly target.

    A HEAD that does not validate gets its validation errors and exit code 2. A BASE that does
    not (a broken main, which the pull request may fix) is compared as far as it validates: the
    files it could not read are listed first, and the exit code is 0.
    """
    from pipelines.agreement.diff import diff_revisions, render

    result = diff_revisions(base, head, sla_path(sla))
    echo(render(result, format.value), nl=False)
