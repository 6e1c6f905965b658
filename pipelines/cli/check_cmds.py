"""`funnelpact compile`: the agreements as Great Expectations suites.

great_expectations is imported only for --data-docs: compiling and checking the suites is
plain Python and stays well under a second.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from pipelines.cli.agreement_cmds import SlaPathOption
from pipelines.cli.options import sla_path
from pipelines.cli.output import console, err_console
from pipelines.errors import InputError, Problem


def register(app: typer.Typer) -> None:
    app.command(
        "compile",
        epilog="Examples: funnelpact compile; funnelpact compile --check (in CI); "
        "funnelpact compile --data-docs",
    )(compile_suites)


def compile_suites(
    sla: SlaPathOption = None,
    out: Annotated[
        Path, typer.Option("--out", file_okay=False, help="The GX project folder; suites go to OUT/gx/expectations/.")
    ] = Path("expectations"),
    check: Annotated[
        bool,
        typer.Option("--check", help="Write nothing; exit 1 if the suites in OUT differ from what the agreements compile to."),
    ] = False,
    data_docs: Annotated[
        bool,
        typer.Option("--data-docs", help="Also build GX data docs (suites and stored results) in OUT/gx/uncommitted/data_docs/; not with --check."),
    ] = False,
) -> None:
    """Write the Great Expectations suites generated from the agreements.

    One suite per revision and KPI family (volume, conversion, handoff, revenue) plus a
    data_quality suite; every judged month and KPI is one expectation carrying its target,
    tolerance, severity and owner. The suites are committed: a pull request that changes a
    target shows the changed assertion too.

    Given a folder ($FUNNELPACT_SLA_DIR or sla/ by default), the suites funnelpact generated that no agreement in it
    generates any more are removed; each file created, updated or removed is named. Given a file, which may hold only some revisions of an
    agreement, only its suites are written (or checked) and none is removed.

    Exit code 0 when written (with --check: up to date), 1 when --check finds suites out of
    date, 2 for invalid agreements or an OUT folder it cannot read or write.
    """
    from pipelines.agreement import load_agreements
    from pipelines.checks.compile import drift, write_suites

    if check and data_docs:
        # --check promises to write nothing; the docs are written into OUT/gx/uncommitted/.
        raise InputError(Problem("--check writes nothing and --data-docs writes the data docs: give one of them "
                                 "(in CI, `compile --check`; to look at the suites, `compile --data-docs`)",
                                 field="--data-docs"))
    sla = sla_path(sla)
    agreements = load_agreements(sla)
    # Only a folder holds every revision: the suites of a file's agreements are all a file
    # says anything about.
    prune = sla.is_dir()
    if check:
        found = drift(agreements, out, prune)
        if found:
            for what, path in found.items():
                err_console.print(f"[bold red]out of date[/] {escape(str(out / path))}: {escape(str(what))}")
            err_console.print(f"{escape(str(out))} does not match {escape(str(sla))}: run [bold]funnelpact compile[/] "
                              "and commit the result")
            raise typer.Exit(1)
        console.print(f"[green]ok[/] {escape(str(out))} matches {escape(str(sla))}")
    else:
        changes = write_suites(agreements, out, prune)
        # Name every file: a removal is a revision's verdicts gone, which a reviewer of the
        # commit should not have to find in `git status`.
        done = {"changed": "updated", "missing": "created", "stale": "removed"}
        for what, path in changes.items():
            why = f" (no agreement in {sla} generates it any more)" if what == "stale" else ""
            console.print(f"{done[what]} {escape(str(out / path) + why)}")
        touched = len(changes.changed) + len(changes.missing)
        removed = f"{len(changes.stale)} removed" if prune else "none removed (only compiling a folder removes any)"
        console.print(
            f"[green]compiled[/] {len(agreements)} revision(s) into {escape(str(out))}: "
            f"{touched} suite(s) written, {removed}"
            + ("" if changes else "; already up to date")
        )
    if data_docs:
        from pipelines.checks.docs import build_data_docs

        console.print(f"data docs: {escape(str(build_data_docs(project_dir=out)))}")
