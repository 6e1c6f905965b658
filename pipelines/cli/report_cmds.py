"""`funnelpact report`: the monthly review pack (SPEC §7).

The report reads the judged scorecard in the warehouse. A month that has been judged is
rendered as it was judged (its last run), so last month's pack does not change because
today's data moved on. A month not judged yet — or any month with an explicit --as-of — is
run first through the same job as `funnelpact run`, then rendered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipelines.cli.output import echo, report_warning, say
from pipelines.cli.options import MONTH_METAVAR, AsOfOption, DataOption, SlaOption, as_of_instant, settings_for


def register(app: typer.Typer) -> None:
    app.command(epilog="Example: funnelpact report --month 2026-03 --out review-2026-03.html --data data/")(report)


def report(
    month: Annotated[str, typer.Option("--month", metavar=MONTH_METAVAR, help="The month to review, YYYY-MM.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", help="The HTML file to write (one self-contained file).",
                                      show_default=False)],
    data: DataOption = None,
    sla: SlaOption = None,
    as_of: AsOfOption = None,
) -> None:
    """Write the monthly review pack: one HTML file both teams read.

    The funnel against its targets, the scorecard per team, trends over the agreement's
    window, hand-off times against the limit, the pace forecast of an open month, the
    bottleneck of the revenue gap, recycling, the rules of the revision in force and data
    quality. It opens offline and can be attached to an e-mail.

    A month already judged is shown as judged (--data is then not read, and the command
    says so); a month not judged yet, or any month with --as-of, is run through the pipeline
    first (like `funnelpact run --from M --to M`).

    Exit code 0 when the pack is written, also when the month has breaches (the pack shows
    them; a run it starts alerts as usual, and a run of it that fails is told to the
    channels as `funnelpact run`'s); 2 on bad input, 3 when the pipeline failed for another
    reason (its log says why) or the disk is full (the previous pack at --out is left as it
    was), 130 when interrupted.
    """
    from pipelines.agreement import load_agreements
    from pipelines.agreement.load import require_started
    from pipelines.cli.pipeline_cmds import execute
    from pipelines.report.gather import left_out
    from pipelines.report.render import check_request, write_checked_report

    settings = settings_for(data, sla)
    instant = as_of_instant(as_of)
    agreements = load_agreements(settings.sla_dir)
    # Before the pipeline runs: it judges the month and sends alerts.
    out = check_request(agreements, month, out)
    require_started(agreements, [month], instant, "--month", "review")
    if data is not None:
        from pipelines.data.sources import require_data_dir

        require_data_dir(settings.data_dir)
    judged = _judged_agreements(settings, month)
    if as_of is not None or not judged:
        execute(settings, month, month, instant, "table", quiet=True, why="before writing the report")
    else:
        if data is not None:
            say(f"{month} is shown as judged by its last run; {settings.data_dir} is not read "
                "(give --as-of to judge it again from that data)")
        # The pack names them in a banner; whoever runs the command reads the terminal first.
        if missing := left_out(agreements, month, judged):
            from pipelines.errors import Problem

            report_warning(Problem(
                f"{', '.join(f'{a.name} {a.revision}' for a in missing)}: in force in {month} but not judged "
                f"for it (added to the agreement folder since), so the pack leaves it out; "
                f"`funnelpact run --from {month} --to {month}` judges every agreement in force"))
    path = write_checked_report(settings, agreements, month, out, instant)
    echo(f"review pack for {month} written to {path.resolve()}")


def _judged_agreements(settings, month: str) -> set[str]:
    """The agreements the warehouse holds a judgement of `month` for (none: not judged)."""
    if not settings.warehouse.is_file():
        return set()
    from pipelines.warehouse.connection import connect
    from pipelines.warehouse.judgements import read_judgements

    with connect(settings.warehouse, read_only=True) as con:
        return {r["agreement"] for r in read_judgements(con, [month])}
