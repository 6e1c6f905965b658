"""`funnelpact generate` and `funnelpact import …`: CRM data into the canonical form."""

from __future__ import annotations

from datetime import date
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from pipelines.cli.options import DATE_METAVAR, INT_METAVAR, TIMEZONE_METAVAR
from pipelines.cli.output import console, err_console
from pipelines.errors import InputError, Problem

if TYPE_CHECKING:
    from pipelines.data.importers.common import Imported

# Progress bars only pay off when a run takes more than a few seconds (~200k contacts).
PROGRESS_FROM_CONTACTS = 200_000


class DataFormat(str, Enum):
    csv = "csv"
    parquet = "parquet"


def _date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(Problem(f"expected a date YYYY-MM-DD, got '{value}'",
                                 field=option)) from None


def _print_written(out: Path, rows: dict[str, int], left_out: dict[str, int] | None = None) -> None:
    """The rows written per table and, when a mapping's keep_rows or skip_rows left rows out,
    how many rows each table's filters left out (the notes say by which value)."""
    table = Table(title=f"canonical tables in {escape(str(out))}", title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    if left_out:
        table.add_column("left out by filter", justify="right")
    for name, n in rows.items():
        cells = [name, f"{n:,}"]
        if left_out:
            cells.append(f"{left_out[name]:,}" if name in left_out else "")
        table.add_row(*cells)
    console.print(table)
    _warn_of_other_tables(out, rows)


def _print_imported(out: Path, imported: Imported, format_option: str) -> None:
    """What an import wrote, its notes, and the times, dates and amounts the loader will not
    read (before a run quarantines them); `format_option` names what sets the format of the export's times."""
    from pipelines.wording import counted
    from pipelines.data.importers.output import unread_values

    _print_written(out, imported.rows, imported.left_out)
    for note in imported.notes:
        err_console.print(note, highlight=False, markup=False)  # notes name files and columns: text
    for name in imported.rows:
        for column, (n, total, kind, first) in unread_values(out, name).items():
            what, check, reason = {
                "timestamp": ("time", f"check {format_option}", "bad_timestamp"),
                "date": ("date", f"check {format_option}", "bad_date"),
                # Amounts are kept as exported, not guessed: '1,234' is 1234 or 1.234 by the locale.
            }.get(kind, ("number", f"expected plain digits such as {'1200' if kind == 'bigint' else '1234.50'}, "
                         "without a currency sign or thousands separators", "bad_number"))
            are_not = f"is not a {what}" if n == 1 else f"are not {what}s"
            rows = "its row" if n == 1 else "their rows"
            err_console.print(f"note: {name}.{column}: {n:,} of {counted(total, 'value')} {are_not} the import could "
                              f"read ({check}); the loader quarantines {rows} as {reason} (e.g. {first!r})",
                              highlight=False, markup=False)


def _warn_of_other_tables(out: Path, written: dict[str, int]) -> None:
    """Tables already in `out` that this command did not write stay, and the next run reads
    them with the new ones: say so (they may come from another export or company)."""
    from pipelines.data.sources import find_source
    from pipelines.data.tables import TABLES

    kept, lacking = [], []
    for name, table in TABLES.items():
        if name not in written:
            try:
                source = find_source(out, name)
            except InputError:  # given twice: the run will say so
                source = None
            if source is not None:
                kept.append(Path(source.display).name)
            elif not table.optional:
                lacking.append(name)
    if kept:
        err_console.print(f"note: {out} also holds {', '.join(kept)}, not written by this command: the next run "
                          "reads them with the tables above (remove them if they come from another export)",
                          highlight=False, markup=False)
    if lacking:
        # A mapping may write part of a directory (the rest from another export): a run needs it whole.
        err_console.print(f"note: {out} holds no {' or '.join(lacking)}, which a run needs: import "
                          f"{'it' if len(lacking) == 1 else 'them'} into {out} too before running",
                          highlight=False, markup=False)


OutOption = Annotated[Path, typer.Option("--out", file_okay=False, help="Directory to write the canonical "
                                         "tables into (created if missing).")]
ImportOutOption = Annotated[Path, typer.Option(
    "--out", file_okay=False, help="Directory to write the canonical tables into (created if missing). "
    "They replace the ones there only once all are written; an export may not be one of them.")]
def _timezone_option(dates: str) -> object:
    return typer.Option(
        "--timezone", metavar=TIMEZONE_METAVAR, show_default=False,
        help="IANA time zone (the CRM portal's or org's) of the export's naive local times, and of its "
        f"date-only values ({dates}), which are placed in that zone's calendar days; times with an offset "
        "or 'Z' are kept. Default: UTC, with a warning when date-only values were read.")


HubspotTimezoneOption = Annotated[str | None, _timezone_option("a date without a time of day, in any column")]
SalesforceTimezoneOption = Annotated[str | None, _timezone_option(
    "Opportunity CloseDate and Lead ConvertedDate, even in Data Loader exports whose times end in Z")]
TimestampFormatOption = Annotated[str | None, typer.Option(
    "--timestamp-format", metavar="<strptime>", help="strptime format of the export's times, for a day-first export: "
    "'%d/%m/%Y %H:%M' (its date part, '%d/%m/%Y', reads date-only values). Default: ISO 8601 and US "
    "month-first m/d/Y; a day-first date (13/01/2026) is then refused. ISO 8601 is read either way.",
    show_default=False)]
EncodingOption = Annotated[str, typer.Option(
    "--encoding", metavar="<encoding>", help="Text encoding of the exports, any Python knows, in any case: cp1252 (windows-1252) for "
    "Excel's 'CSV' saved on Windows, latin-1 (iso-8859-1), utf-16 for Excel's 'Unicode Text', shift_jis, … "
    "An export in another encoding than UTF-8 is first converted to a UTF-8 copy in --out (removed when the "
    "import ends); bytes that are not text in it stop the import, naming the line.")]


def generate(
    out: OutOption,
    contacts: Annotated[int, typer.Option(help="Number of contacts (leads) to create, 1 or more.")] = 20_000,
    seed: Annotated[int, typer.Option(min=0, metavar=INT_METAVAR, help="Random seed (0 or more): the same seed gives the same files.")] = 1,
    start: Annotated[str, typer.Option(metavar=DATE_METAVAR, help="First day of the data, YYYY-MM-DD.")] = "2026-01-01",
    end: Annotated[str, typer.Option(metavar=DATE_METAVAR, help="Last day of the data, YYYY-MM-DD.")] = "2026-12-31",
    format: Annotated[DataFormat, typer.Option(
        "--format", help="File format of the tables.")] = DataFormat.csv,
) -> None:
    """Write a deterministic synthetic company's CRM data in the canonical form."""
    from pipelines.data.generate import generate as run_generate

    first, last = _date(start, "--start"), _date(end, "--end")
    if contacts < PROGRESS_FROM_CONTACTS:
        summary = run_generate(out, contacts, seed, first, last, format.value)
    else:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        with Progress("[progress.description]{task.description}", BarColumn(),
                      MofNCompleteColumn(), TimeElapsedColumn(), console=err_console,
                      transient=True) as bar:
            task = bar.add_task("generating contacts", total=contacts)
            summary = run_generate(out, contacts, seed, first, last, format.value,
                                   on_progress=lambda n: bar.update(task, completed=n))
    _print_written(out, summary.rows)
    if summary.planted:
        planted = ", ".join(f"{k} {v}" for k, v in summary.planted.items())
        console.print(f"planted on purpose (the loader quarantines or counts them): {planted}")


# The examples of the import commands run on these, from the repository root.
FIXTURE_EXPORTS = "tests/fixtures/exports"

import_app = typer.Typer(
    help="Convert a CRM export into the canonical tables (CSV files in --out).",
    epilog="Example: funnelpact import hubspot "
           f"--contacts {FIXTURE_EXPORTS}/hubspot/contacts_labels.csv --out hubspot-data/ "
           "(on the repository's fixture exports; each importer's --help has its options and more examples)",
    no_args_is_help=True)


@import_app.command(
    "hubspot",
    epilog="Examples: funnelpact import hubspot "
           f"--contacts {FIXTURE_EXPORTS}/hubspot/contacts_labels.csv --deals {FIXTURE_EXPORTS}/hubspot/deals_labels.csv "
           "--timezone Europe/Berlin --out hubspot-data/; an export Excel saved as 'CSV' on Windows: "
           f"funnelpact import hubspot --contacts {FIXTURE_EXPORTS}/hubspot/contacts_excel_windows.csv --encoding cp1252 "
           "--out hubspot-data/ (on the repository's fixture exports)")
def import_hubspot(
    contacts: Annotated[Path, typer.Option(help="HubSpot contacts export (CSV) with lifecycle "
                                           "stage dates; UI labels or internal names.")],
    out: ImportOutOption,
    deals: Annotated[Path | None, typer.Option(
        help="HubSpot deals export (CSV). Default: none, no deals table (revenue is no_data).")] = None,
    timezone: HubspotTimezoneOption = None,
    timestamp_format: TimestampFormatOption = None,
    encoding: EncodingOption = "utf-8",
) -> None:
    """Convert a HubSpot contacts export (and optionally deals) into canonical tables."""
    from pipelines.data.importers.hubspot import import_hubspot as run

    _print_imported(out, run(contacts, out, deals=deals, timezone=timezone, timestamp_format=timestamp_format,
                             encoding=encoding), "--timestamp-format")


@import_app.command(
    "salesforce",
    epilog="Example: funnelpact import salesforce "
           f"--leads {FIXTURE_EXPORTS}/salesforce/Lead.csv --lead-history {FIXTURE_EXPORTS}/salesforce/LeadHistory.csv "
           f"--opportunities {FIXTURE_EXPORTS}/salesforce/Opportunity.csv --tasks {FIXTURE_EXPORTS}/salesforce/Task.csv "
           f"--events {FIXTURE_EXPORTS}/salesforce/Event.csv --timezone America/Mexico_City --out salesforce-data/; a Data Loader export in ISO-8859-1: "
           f"funnelpact import salesforce --leads {FIXTURE_EXPORTS}/salesforce/latin1/Lead.csv --encoding latin-1 "
           "--out salesforce-data/ (on the repository's fixture exports)")
def import_salesforce(
    leads: Annotated[Path, typer.Option(help="Lead export (Id, CreatedDate, Status, "
                                        "IsConverted, ConvertedDate, …).")],
    out: ImportOutOption,
    lead_history: Annotated[Path | None, typer.Option(
        help="LeadHistory export: Status changes give the stage times. Default: none, only creation and "
        "conversion are known.")] = None,
    opportunities: Annotated[Path | None, typer.Option(
        help="Opportunity export: deals, opportunity and customer stages. Default: none, no deals table.")] = None,
    tasks: Annotated[Path | None, typer.Option(
        help="Task export: sales touches (first touch of an MQL); only done tasks (IsClosed true or Status "
        "Completed) on a lead, or on the Contact or Opportunity it was converted to, count. Default: none, no "
        "activities table (the hand-off KPIs are no_data).")] = None,
    events: Annotated[Path | None, typer.Option(
        help="Event export: calls and meetings logged as Events, sales touches as tasks are, at their start "
        "(ActivityDateTime or StartDateTime; ActivityDate for an all-day event, IsAllDayEvent true), e.g. --events "
        "Event.csv (Data Loader: Event object; WhoId, WhatId, ActivityDateTime, ActivityDate, IsAllDayEvent, Type). "
        "Default: none, only tasks are touches.")] = None,
    timezone: SalesforceTimezoneOption = None,
    timestamp_format: TimestampFormatOption = None,
    encoding: EncodingOption = "utf-8",
) -> None:
    """Convert Salesforce Lead (and LeadHistory, Opportunity, Task, Event) exports into canonical
    tables. Columns are found by API name (Data Loader: CreatedDate) or by field label (a
    report's CSV: Created Date, Lead ID)."""
    from pipelines.data.importers.salesforce import import_salesforce as run

    _print_imported(out, run(leads, out, lead_history=lead_history, opportunities=opportunities,
                            tasks=tasks, events=events, timezone=timezone, timestamp_format=timestamp_format, encoding=encoding),
                    "--timestamp-format")


@import_app.command(
    "csv",
    epilog=f"Examples: funnelpact import csv --mapping {FIXTURE_EXPORTS}/csv/mapping.yaml --out csv-data/; "
           "files Excel saved as 'Unicode Text' (UTF-16, tab-separated), the mapping saying 'encoding: utf-16': "
           f"funnelpact import csv --mapping {FIXTURE_EXPORTS}/csv_unicode_text/mapping.yaml --out csv-data/ "
           "(on the repository's fixture exports; the mapping format is in docs/data.md)")
def import_csv(
    mapping: Annotated[Path, typer.Option(help="YAML mapping: per canonical table a source "
                                          "file, its columns, time zone and value maps, and which of its rows "
                                          "the table holds (keep_rows: {column: Type, values: [Call, Meeting]} "
                                          "keeps those, skip_rows leaves its values out; the rows left out "
                                          "are counted by value); the "
                                          "files' text encoding too (encoding: cp1252; default UTF-8), for "
                                          "every file or per table.")],
    out: ImportOutOption,
) -> None:
    """Convert any CRM's CSV exports into canonical tables by a column mapping."""
    from pipelines.data.importers.csv_mapping import import_csv as run

    _print_imported(out, run(mapping, out), "the mapping's timestamp_format")


def register(app: typer.Typer) -> None:
    app.command(
        "generate",
        epilog="Example: funnelpact generate --out data/ --contacts 20000 --seed 7")(generate)
    app.add_typer(import_app, name="import")
