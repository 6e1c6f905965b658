"""`funnelpact generate` and `funnelpact import …` through the real entry point."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner


EXPORTS = Path(__file__).parents[1] / "fixtures" / "exports"


def funnelpact(*args: str) -> tuple[int, str, str]:
    """Run the real `funnelpact` app in-process: exit code, stdout, stderr."""
    from pipelines.cli import app

    result = CliRunner().invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_generate_writes_the_tables_and_says_what_was_planted(tmp_path):
    code, out, _ = funnelpact("generate", "--out", str(tmp_path),
                              "--contacts", "500", "--seed", "2", "--format", "parquet")
    assert code == 0
    assert (tmp_path / "contacts.parquet").exists()
    assert "lifecycle_events" in out and "web_sessions" in out
    assert "planted on purpose" in out


@pytest.mark.parametrize("args, message", [
    (["--start", "2026-13-01"], "--start: expected a date YYYY-MM-DD, got '2026-13-01'"),
    (["--start", "2026-06-01", "--end", "2026-01-01"], "--end: end 2026-01-01 is before start"),
    (["--contacts", "0"], "--contacts: must be at least 1, got 0"),
])
def test_generate_bad_arguments_exit_2_with_one_clear_line(tmp_path, args, message):
    code, _, err = funnelpact("generate", "--out", str(tmp_path), *args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_import_hubspot_writes_canonical_files(tmp_path):
    code, out, _ = funnelpact(
        "import", "hubspot",
        "--contacts", str(EXPORTS / "hubspot" / "contacts_labels.csv"),
        "--deals", str(EXPORTS / "hubspot" / "deals_labels.csv"),
        "--timezone", "America/Mexico_City", "--out", str(tmp_path))
    assert code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "contacts.csv", "deals.csv", "lifecycle_events.csv"]
    assert "lifecycle_events" in out


def test_an_import_says_which_tables_of_the_folder_it_did_not_write(tmp_path):
    (tmp_path / "web_sessions.csv").write_text("date,channel,sessions\n2026-01-01,organic,5\n")
    (tmp_path / "activities").mkdir()
    code, _, err = funnelpact(
        "import", "hubspot", "--contacts", str(EXPORTS / "hubspot" / "contacts_labels.csv"),
        "--timezone", "America/Mexico_City", "--out", str(tmp_path))
    assert code == 0
    assert (tmp_path / "web_sessions.csv").exists()  # kept: nothing is lost
    assert "also holds web_sessions.csv, not written by this command" in " ".join(err.split())
    assert "activities" not in err  # an empty folder holds no table (find_source refuses it)


def test_an_import_that_leaves_the_folder_without_a_required_table_says_so(tmp_path):
    # A mapping may write part of a folder; the next run then stopped on the missing table.
    mapping = (EXPORTS / "csv" / "mapping.yaml").read_text()
    partial = mapping[:mapping.index("  lifecycle_events:")] + mapping[mapping.index("  activities:"):]
    for name in ("people.csv", "touches.csv", "deals.csv"):
        (tmp_path / name).write_bytes((EXPORTS / "csv" / name).read_bytes())
    (tmp_path / "mapping.yaml").write_text(partial)
    code, _, err = funnelpact("import", "csv", "--mapping", str(tmp_path / "mapping.yaml"), "--out", str(tmp_path / "out"))
    assert code == 0
    assert f"note: {tmp_path / 'out'} holds no lifecycle_events, which a run needs" in " ".join(err.split())
    (tmp_path / "out" / "lifecycle_events.csv").write_text("contact_id,stage,occurred_at,reason\n")
    code, _, err = funnelpact("import", "csv", "--mapping", str(tmp_path / "mapping.yaml"), "--out", str(tmp_path / "out"))
    assert code == 0 and "which a run needs" not in err


def test_import_with_a_missing_column_exits_2_naming_file_and_column(tmp_path):
    leads = tmp_path / "Lead.csv"
    leads.write_text("Id,Status\n00Q1,Open - Not Contacted\n")
    code, _, err = funnelpact("import", "salesforce", "--leads", str(leads),
                              "--out", str(tmp_path / "out"))
    assert code == 2
    assert f"{leads} CreatedDate: missing the created date column" in err
    assert "Traceback" not in err


def test_import_of_a_missing_file_exits_2(tmp_path):
    code, _, err = funnelpact("import", "hubspot", "--contacts",
                              str(tmp_path / "nope.csv"), "--out", str(tmp_path))
    assert code == 2
    assert f"{tmp_path / 'nope.csv'} --contacts: file not found" in err
    (tmp_path / "exports").mkdir()
    code, _, err = funnelpact("import", "hubspot", "--contacts", str(tmp_path / "exports"), "--out", str(tmp_path))
    assert code == 2
    assert f"{tmp_path / 'exports'} --contacts: is a folder; expected a CSV export" in err
    code, _, err = funnelpact("import", "hubspot", "--contacts", "/dev/null", "--out", str(tmp_path))
    assert code == 2
    assert "/dev/null --contacts: is no regular file (a device or a pipe); expected a CSV export" in err


def test_an_empty_timezone_is_refused_not_read_as_utc(tmp_path):
    """`--timezone "$CRM_TZ"` with the variable unset read every local time as UTC."""
    code, _, err = funnelpact("import", "hubspot", "--contacts", str(EXPORTS / "hubspot" / "contacts_labels.csv"),
                              "--timezone", "", "--out", str(tmp_path / "out"))
    assert code == 2
    assert "Invalid value for --timezone: it is empty (is a shell variable unset?)" in " ".join(err.split())
    assert not (tmp_path / "out").exists()


def test_import_csv_by_mapping(tmp_path):
    code, _, _ = funnelpact("import", "csv", "--mapping",
                            str(EXPORTS / "csv" / "mapping.yaml"), "--out", str(tmp_path))
    assert code == 0
    assert (tmp_path / "activities.csv").read_text().startswith(
        "activity_id,contact_id,occurred_at,team,type\n")


def test_import_csv_says_how_many_rows_a_row_filter_left_out_and_refuses_a_bad_one_with_exit_2(tmp_path):
    (tmp_path / "acts.csv").write_text("ID,Type,Due,Person\n1,Call,2026-01-07T17:00:00Z,P-1\n"
                                       "2,Task,2026-01-07T18:00:00Z,P-1\n3,Deadline,2026-01-20T00:00:00Z,\n")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("tables:\n"
                       "  activities:\n"
                       "    file: acts.csv\n"
                       "    columns: {activity_id: ID, contact_id: Person, occurred_at: Due}\n"
                       "    constants: {team: sales}\n"
                       "    skip_rows: {column: Type, values: [Task, Deadline]}\n")
    code, out, err = funnelpact("import", "csv", "--mapping", str(mapping), "--out", str(tmp_path / "out"))
    assert code == 0
    assert [line.split() for line in out.splitlines() if "activities" in line] == [["│", "activities", "│", "1", "│",
                                                                                    "2", "│"]]
    assert "left out by filter" in " ".join(out.split())
    assert ("note: tables.activities.skip_rows left out 2 of 3 rows of acts.csv, by Type: 'Deadline' 1, 'Task' 1"
            in " ".join(err.split()))
    mapping.write_text(mapping.read_text().replace("column: Type", "column: Kind"))
    code, _, err = funnelpact("import", "csv", "--mapping", str(mapping), "--out", str(tmp_path / "out2"))
    assert code == 2
    assert (f"error {mapping}:6:17 tables.activities.skip_rows.column: column 'Kind' (named in skip_rows) not found "
            "in acts.csv") in " ".join(err.split())
    assert "Traceback" not in err


def test_import_csv_warns_of_events_of_people_a_contacts_filter_left_out_and_exits_0(tmp_path):
    """The events are written, nothing is lost: a warning, as the loader will quarantine them."""
    import shutil

    for f in (EXPORTS / "csv").iterdir():
        shutil.copy(f, tmp_path / f.name)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(mapping.read_text().replace(
        "    constants: {country: MX}\n",
        "    constants: {country: MX}\n    keep_rows: {column: Channel, values: [Google Ads]}\n", 1))
    code, _, err = funnelpact("import", "csv", "--mapping", str(mapping), "--out", str(tmp_path / "out"))
    assert code == 0
    assert ("warning: tables.lifecycle_events writes 1 event of 1 person that tables.contacts.keep_rows left out "
            "of people.csv; the loader will quarantine it as unknown_contact, against data_quality:quarantine_rate: "
            "give tables.lifecycle_events the same keep_rows, or drop the filter from tables.contacts"
            ) in " ".join(err.split())


def test_a_data_directory_missing_a_table_or_column_prints_one_line_each(tmp_path, capsys):
    """The loader's errors, through the shared CLI reporting, name file, column, expectation."""
    import duckdb

    from pipelines.cli.output import report_input_error
    from pipelines.data.load import load_data_dir
    from pipelines.errors import InputError

    (tmp_path / "contacts.csv").write_text("contact_id\nC1\n")
    with pytest.raises(InputError) as exc:
        load_data_dir(tmp_path, duckdb.connect(), {})
    assert exc.value.exit_code == 2
    report_input_error(exc.value)
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 2
    assert f"{tmp_path / 'contacts.csv'} created_at: missing required column 'created_at'" in err
    assert f"{tmp_path}: required table 'lifecycle_events' not found" in err


@pytest.mark.parametrize("args, message", [
    (["generate", "--out", "{file}", "--contacts", "10"], "Invalid value for '--out'"),
    (["import", "csv", "--mapping", "m.yaml", "--out", "{file}"], "Invalid value for '--out'"),
    (["compile", "--out", "{file}"], "Invalid value for '--out'"),
    (["demo", "--dir", "{file}"], "Invalid value for '--dir'"),
    (["generate", "--out", "{dir}", "--contacts", "10", "--seed", "-1"], "Invalid value for '--seed'"),
], ids=["generate into a file", "import into a file", "compile into a file", "demo into a file", "negative seed"])
def test_an_output_folder_that_is_a_file_or_a_bad_seed_exits_2(tmp_path, args, message):
    existing = tmp_path / "contacts.csv"
    existing.write_text("contact_id,created_at\n")
    args = [a.format(file=existing, dir=tmp_path / "new") for a in args]
    code, _, err = funnelpact(*args)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert existing.read_text() == "contact_id,created_at\n"
    assert not (tmp_path / "new").exists()


def test_debug_shows_the_traceback_and_keeps_the_exit_code_of_bad_input(tmp_path):
    code, _, err = funnelpact("--debug", "generate", "--out", str(tmp_path), "--contacts", "10", "--start", "May 1st")
    assert code == 2
    assert "Traceback" in err and "error --start" in err


def test_an_export_that_is_not_utf8_is_named_with_its_line(tmp_path):
    export = tmp_path / "contacts.csv"
    export.write_text("Record ID,Create Date,Lifecycle Stage\n1,2026-01-05 10:00,Lead\n", encoding="utf-16")
    code, _, err = funnelpact("import", "hubspot", "--contacts", str(export), "--out", str(tmp_path / "out"))
    assert code == 2
    assert f"{export}:1: the file is UTF-16 text: expected UTF-8" in " ".join(err.split())


def test_a_salesforce_report_footer_is_left_out_and_the_command_says_so(tmp_path):
    leads = tmp_path / "Lead.csv"
    leads.write_text('"Id","CreatedDate","Status","IsConverted","ConvertedDate"\n'
                     '"00Q1","2026-01-05T10:00:00.000Z","Open","false",""\n\n'
                     '"Generated By: Marta Ruiz  1/6/2026, 9:12 AM"\n'
                     '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."\n')
    code, _, err = funnelpact("import", "salesforce", "--leads", str(leads), "--out", str(tmp_path / "out"),
                              "--timezone", "UTC")
    assert code == 0
    assert "note: Lead.csv: left out the report footer Salesforce adds (lines 3-5)" in " ".join(err.split())


def test_a_report_footer_not_left_out_is_named_as_such_with_what_to_do(tmp_path):
    """Footer lines right after the rows, without the blank line before them, are no footer the
    import leaves out; it stopped at 'Lead.csv:3: 1 value, expected 4' without saying what they are."""
    leads = tmp_path / "Lead.csv"
    leads.write_text('"Id","CreatedDate","Status","IsConverted"\n'
                     '"00Q1","2026-01-05T10:00:00.000Z","Open","false"\n'
                     '"Generated By: Marta Ruiz  1/6/2026, 9:12 AM"\n'
                     '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."\n')
    code, _, err = funnelpact("import", "salesforce", "--leads", str(leads), "--out", str(tmp_path / "out"))
    err = " ".join(err.split())
    assert code == 2 and "Traceback" not in err
    assert (f"{leads}:3: 1 value, expected 4 (one per column of the header); 'Generated By: Marta Ruiz "
            "1/6/2026, 9:12' looks like a report's footer: export the report without it, or delete the lines "
            "from here to the end of the file") in err
    # A short row that is data, not a footer, gets no such hint.
    leads.write_text('"Id","CreatedDate","Status","IsConverted"\n"00Q1","2026-01-05T10:00:00.000Z"\n')
    code, _, err = funnelpact("import", "salesforce", "--leads", str(leads), "--out", str(tmp_path / "out"))
    assert code == 2 and "2 values, expected 4" in err and "report's footer" not in err


def test_an_import_says_how_many_times_it_could_not_read(tmp_path):
    mapping = (EXPORTS / "csv" / "mapping.yaml").read_text()
    assert 'timestamp_format: "%d/%m/%Y %H:%M"' in mapping
    for name in ("people.csv", "deals.csv", "touches.csv"):
        (tmp_path / name).write_text((EXPORTS / "csv" / name).read_text())
    (tmp_path / "mapping.yaml").write_text(mapping.replace('"%d/%m/%Y %H:%M"', '"%Y.%m.%d"'))
    code, _, err = funnelpact("import", "csv", "--mapping", str(tmp_path / "mapping.yaml"), "--out", str(tmp_path / "out"))
    assert code == 0
    assert "note: contacts.created_at: 3 of 3 values are not times the import could read" in " ".join(err.split())
    # The fixture's own format reads every time: no note.
    code, _, err = funnelpact("import", "csv", "--mapping", str(EXPORTS / "csv" / "mapping.yaml"),
                              "--out", str(tmp_path / "good"))
    assert code == 0 and "not times" not in err


def test_an_export_inside_out_under_an_output_name_is_refused_before_anything_is_written(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    export = data / "contacts.csv"
    export.write_text((EXPORTS / "hubspot" / "contacts_labels.csv").read_text())
    before = export.read_text()
    code, _, err = funnelpact("import", "hubspot", "--contacts", str(export), "--out", str(data) + "/")
    assert code == 2
    assert (f"{export} --contacts: is the file this import writes for the contacts table "
            f"({data / 'contacts.csv'})") in " ".join(err.split())
    assert export.read_text() == before
    assert sorted(p.name for p in data.iterdir()) == ["contacts.csv"]


def test_a_failed_import_leaves_out_as_it_was(tmp_path):
    sf = EXPORTS / "salesforce"
    out = tmp_path / "out"
    code, _, _ = funnelpact("import", "salesforce", "--leads", str(sf / "Lead.csv"),
                            "--opportunities", str(sf / "Opportunity.csv"), "--out", str(out))
    assert code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    tasks = tmp_path / "Task.csv"
    tasks.write_text("Id,Subject,CreatedDate\nt9,Call,2026-01-22T15:00:00.000Z\n")  # no WhoId
    code, _, err = funnelpact("import", "salesforce", "--leads", str(sf / "Lead.csv"),
                              "--lead-history", str(sf / "LeadHistory.csv"), "--tasks", str(tasks),
                              "--opportunities", str(sf / "Opportunity.csv"), "--out", str(out))
    assert code == 2 and f"{tasks} WhoId: missing the who Id column" in err
    # Contacts, events and deals were converted before the tasks failed: none of them is moved
    # in, and the staging folder is gone.
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    # A folder the failed import created is removed again.
    code, _, _ = funnelpact("import", "salesforce", "--leads", str(sf / "Lead.csv"),
                            "--tasks", str(tasks), "--out", str(tmp_path / "new"))
    assert code == 2 and not (tmp_path / "new").exists()


def test_an_export_or_out_whose_path_is_not_utf8_exits_2_naming_the_option(tmp_path):
    """DuckDB opens only UTF-8 paths: an --out named in Latin-1 ended an import or generate
    with exit 3, and an export so named was refused as if its text were not UTF-8."""
    import os
    import shutil

    export = tmp_path / os.fsdecode(b"contactos-\xe9.csv")
    shutil.copy(EXPORTS / "hubspot" / "contacts_labels.csv", export)
    code, _, err = funnelpact("import", "hubspot", "--contacts", str(export), "--timezone", "UTC",
                              "--out", str(tmp_path / "out"))
    assert (code, err) == (2, f"error {str(export)!r} --contacts: the path is not UTF-8 text, and DuckDB opens "
                              "only UTF-8 paths: expected an export whose path is UTF-8 (rename it, or link it "
                              "under a UTF-8 name)\n")
    out = tmp_path / os.fsdecode(b"salida-\xe9")
    code, _, err = funnelpact("import", "hubspot", "--contacts", str(EXPORTS / "hubspot" / "contacts_labels.csv"),
                              "--timezone", "UTC", "--out", str(out))
    assert code == 2 and err.startswith(f"error {str(out)!r} --out: the path is not UTF-8 text"), err
    code, _, err = funnelpact("generate", "--out", str(out), "--contacts", "50")
    assert code == 2 and err.startswith(f"error {str(out)!r} --out: the path is not UTF-8 text"), err
    assert not out.exists()


def test_an_out_folder_that_cannot_be_made_exits_2_naming_out(tmp_path):
    (tmp_path / "afile").write_text("x")
    code, _, err = funnelpact("import", "hubspot", "--contacts",
                              str(EXPORTS / "hubspot" / "contacts_labels.csv"),
                              "--out", str(tmp_path / "afile" / "sub"))
    assert code == 2
    assert f"{tmp_path / 'afile' / 'sub'} --out: cannot write the folder (Not a directory)" in err
    assert "Traceback" not in err


def test_import_hubspot_reads_a_day_first_export_with_timestamp_format(tmp_path):
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("Record ID,Create Date,Became a Lead Date\n1,05/01/2026 09:15,13/01/2026 10:00\n")
    code, _, err = funnelpact("import", "hubspot", "--contacts", str(contacts), "--out", str(tmp_path / "out"))
    assert code == 2
    assert f"{contacts}:2 Became a Lead Date: '13/01/2026 10:00' is a day-first date" in err
    assert "pass --timestamp-format '%d/%m/%Y %H:%M'" in " ".join(err.split())
    code, _, err = funnelpact("import", "hubspot", "--contacts", str(contacts), "--out", str(tmp_path / "out"),
                              "--timestamp-format", "%d/%m/%Y %H:%M")
    assert code == 0
    assert (tmp_path / "out" / "contacts.csv").read_text().splitlines()[1].startswith("1,2026-01-05T09:15:00Z")
    # A format that reads nothing: the note names this command's option.
    code, _, err = funnelpact("import", "hubspot", "--contacts", str(contacts), "--out", str(tmp_path / "out"),
                              "--timestamp-format", "%Y.%m.%d")
    assert code == 0
    assert ("note: contacts.created_at: 1 of 1 value is not a time the import could read (check "
            "--timestamp-format); the loader quarantines its row as bad_timestamp") in " ".join(err.split())


def test_an_import_says_how_many_dates_it_could_not_read(tmp_path):
    (tmp_path / "people.csv").write_text("id,signed\nP1,2026-01-05 10:00\n")
    (tmp_path / "web.csv").write_text('day,visits\n2026.01.05,3\n06/01/2026,"1,200"\n')
    (tmp_path / "mapping.yaml").write_text(
        "tables:\n"
        "  contacts: {file: people.csv, columns: {contact_id: id, created_at: signed}}\n"
        "  lifecycle_events: {file: people.csv, columns: {contact_id: id}, stage_columns: {lead: signed}}\n"
        "  web_sessions: {file: web.csv, timestamp_format: '%d/%m/%Y', columns: {date: day, sessions: visits}}\n")
    code, _, err = funnelpact("import", "csv", "--mapping", str(tmp_path / "mapping.yaml"), "--out", str(tmp_path / "out"))
    assert code == 0
    assert ("note: web_sessions.date: 1 of 2 values is not a date the import could read (check the mapping's "
            "timestamp_format); the loader quarantines its row as bad_date") in " ".join(err.split())
    # A count with a thousands separator, as a spreadsheet formats it, is named too.
    assert ("note: web_sessions.sessions: 1 of 2 values is not a number the import could read (expected plain "
            "digits such as 1200, without a currency sign or thousands separators); the loader quarantines its "
            "row as bad_number (e.g. '1,200')") in " ".join(err.split())


def test_a_close_date_is_a_day_of_the_given_time_zone_and_a_warning_says_when_none_was_given(tmp_path):
    """A deal closed on 2026-03-01 in Mexico City is March revenue there, not 18:00 of 28 February."""
    leads, opps = tmp_path / "Lead.csv", tmp_path / "Opportunity.csv"
    leads.write_text("Id,CreatedDate,IsConverted,ConvertedDate,ConvertedOpportunityId\n"
                     "00Q1,2026-02-10T15:00:00.000Z,true,2026-02-20,0061\n")
    opps.write_text("Id,CreatedDate,CloseDate,IsClosed,IsWon,Amount\n"
                    "0061,2026-02-20T18:00:00.000Z,2026-03-01,true,true,15000.00\n")
    args = ["import", "salesforce", "--leads", str(leads), "--opportunities", str(opps), "--out", str(tmp_path / "out")]
    code, _, err = funnelpact(*args)
    assert code == 0
    assert ("warning: Opportunity.csv CloseDate: 1 calendar date read as midnight UTC; pass --timezone "
            "<the agreement's zone> to place it in its days") in " ".join(err.split())
    code, _, err = funnelpact(*args, "--timezone", "America/Mexico_City")
    assert code == 0 and "warning" not in err
    assert ",2026-03-01T06:00:00Z,won," in (tmp_path / "out" / "deals.csv").read_text()


def _tree(folder: Path) -> dict[str, bytes | None]:
    return {p.relative_to(folder).as_posix(): None if p.is_dir() else p.read_bytes()
            for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize("kept, named", [
    ("contacts/part-0.parquet", "contacts"),
    ("lifecycle_events/part-0.parquet", "lifecycle_events"),
    ("contacts.csv/part-0.parquet", "contacts.csv"),
    ("contacts.parquet/part-0.parquet", "contacts.parquet"),
], ids=["contacts folder", "events folder", "folder named contacts.csv", "folder named contacts.parquet"])
def test_an_import_into_a_folder_holding_a_table_it_writes_as_a_folder_is_refused_before_writing(
        tmp_path, kept, named):
    """The import wrote contacts.csv beside daily/contacts/ (the daily-append layout), then
    failed on 'table given more than once': --out was broken for every later run."""
    import duckdb

    daily = tmp_path / "daily"
    (daily / kept).parent.mkdir(parents=True)
    duckdb.connect().execute(f"copy (select 'X1' as contact_id) to '{daily / kept}' (format parquet)")
    (daily / "web_sessions.csv").write_text("date,channel,sessions\n2026-01-01,organic,5\n")
    before = _tree(daily)
    code, _, err = funnelpact("import", "hubspot", "--contacts", str(EXPORTS / "hubspot" / "contacts_labels.csv"),
                              "--out", str(daily))
    err = " ".join(err.split())
    assert code == 2 and "Traceback" not in err
    assert f"{daily / named} --out: " in err
    assert "import into an empty directory, or move" in err
    assert _tree(daily) == before  # nothing written, nothing deleted


def test_generate_over_a_folder_holding_a_table_as_parquet_parts_is_refused_before_writing(tmp_path):
    """generate wrote contacts.csv beside daily/contacts/ (the daily-append layout): the
    loader then found the table twice, and every later run failed."""
    import duckdb

    daily = tmp_path / "daily"
    (daily / "contacts").mkdir(parents=True)
    duckdb.connect().execute(f"copy (select 'X1' as contact_id) to '{daily / 'contacts' / 'part-0.parquet'}' "
                             "(format parquet)")
    before = _tree(daily)
    code, _, err = funnelpact("generate", "--out", str(daily), "--contacts", "50")
    err = " ".join(err.split())
    assert code == 2 and "Traceback" not in err
    assert f"{daily / 'contacts'} --out: holds the contacts table as a folder of Parquet parts" in err
    assert "generate into an empty directory, or move contacts" in err
    assert _tree(daily) == before


def test_generate_over_a_folder_holding_a_table_named_in_another_case_is_refused_before_writing(tmp_path):
    """generate wrote contacts.csv beside Contacts.CSV: the loader then found the table twice."""
    (tmp_path / "Contacts.CSV").write_text("contact_id,created_at\nX1,2026-01-05\n")
    before = _tree(tmp_path)
    code, _, err = funnelpact("generate", "--out", str(tmp_path), "--contacts", "50")
    err = " ".join(err.split())
    assert code == 2 and "Traceback" not in err
    assert (f"{tmp_path / 'Contacts.CSV'} --out: is named like the contacts table, which funnelpact generate writes as "
            "contacts.csv: the loader refuses a table given twice") in err
    assert _tree(tmp_path) == before


def test_generate_replaces_the_tables_of_the_other_format_and_keeps_other_files(tmp_path):
    code, _, _ = funnelpact("generate", "--out", str(tmp_path), "--contacts", "50", "--format", "parquet")
    assert code == 0
    (tmp_path / "notes.txt").write_text("mine")
    code, _, _ = funnelpact("generate", "--out", str(tmp_path), "--contacts", "50")
    assert code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "activities.csv", "contacts.csv", "deals.csv", "lifecycle_events.csv", "notes.txt", "web_sessions.csv"]


@pytest.mark.parametrize("stop, code, said", [("SIGINT", 130, "interrupted"), ("SIGTERM", 143, "terminated")])
def test_generate_stopped_halfway_exits_with_the_signal_s_code_and_leaves_out_as_it_was(tmp_path, stop, code, said):
    """Interrupted halfway, generate left contacts, events and activities without web
    sessions (written last): a run took that for a whole company with no visits. Terminated
    (`timeout`, `kill`), it left its hidden staging folder in --out for good."""
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "data"
    assert funnelpact("generate", "--out", str(out), "--contacts", "50", "--seed", "3")[0] == 0
    before = _tree(out)
    run = subprocess.Popen([sys.executable, "-c", "from pipelines.cli import main; main()", "generate",
                            "--out", str(out), "--contacts", "20000000"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    # The first chunk's rows written into the staging folder: the command is under way.
    while not any(p.stat().st_size > 0 for p in out.glob(".funnelpact-generate-*/contacts.csv")):
        assert run.poll() is None and time.monotonic() < deadline, run.communicate()
        time.sleep(0.02)
    run.send_signal(getattr(signal, stop))
    stdout, err = run.communicate(timeout=120)
    assert run.returncode == code, err[-3000:]
    assert f"funnelpact: {said}" in err and "Traceback" not in err
    assert stdout == ""
    assert _tree(out) == before  # the old tables, byte for byte, and no staging folder


def test_an_import_says_how_many_amounts_are_no_numbers_the_loader_reads(tmp_path):
    """An amount a spreadsheet formatted ('$1,234.50') is kept and quarantined as bad_number with
    its deal: the import's summary said nothing of it, only of times and dates."""
    deals = tmp_path / "deals.csv"
    deals.write_text("Record ID,Create Date,Close Date,Deal Stage,Amount,Associated Contact IDs\n"
                     '9001,2026-01-20 12:00,2026-03-02 18:45,closedwon,"$1,234.50",101\n'
                     '9002,2026-01-21 12:00,2026-03-03 18:45,closedwon,"1.234,50 €",102\n'
                     "9003,2026-01-22 12:00,2026-03-04 18:45,closedwon,1234.50,103\n")
    code, _, err = funnelpact("import", "hubspot", "--contacts", str(EXPORTS / "hubspot" / "contacts_labels.csv"),
                              "--deals", str(deals), "--timezone", "UTC", "--out", str(tmp_path / "out"))
    assert code == 0
    assert ("note: deals.amount: 2 of 3 values are not numbers the import could read (expected plain digits "
            "such as 1234.50, without a currency sign or thousands separators); the loader quarantines their "
            "rows as bad_number (e.g. '$1,234.50')") in " ".join(err.split())
    # The fixture's amounts are plain: no note.
    code, _, err = funnelpact("import", "hubspot", "--contacts", str(EXPORTS / "hubspot" / "contacts_labels.csv"),
                              "--deals", str(EXPORTS / "hubspot" / "deals_labels.csv"), "--timezone", "UTC",
                              "--out", str(tmp_path / "good"))
    assert code == 0 and "not numbers" not in err


@pytest.mark.parametrize("stop, code, said", [("SIGINT", 130, "interrupted"), ("SIGTERM", 143, "terminated")])
def test_an_import_stopped_inside_a_query_exits_with_the_signal_s_code_and_leaves_out_as_it_was(
        tmp_path, stop, code, said):
    """Ctrl-C while DuckDB reads a large export stops the query with RuntimeError("Query
    interrupted"): the import said "funnelpact failed unexpectedly …; this is a bug" and exited
    3 (a failed run) rather than 130. Terminated (`timeout`, `kill`), it ended at once and left
    its hidden staging folder in --out for good."""
    import signal
    import subprocess
    import sys
    import time

    import duckdb

    leads = tmp_path / "Lead.csv"
    # Large enough that reading it takes seconds: the signal arrives inside the query.
    duckdb.connect().execute(
        "copy (select '00Q' || lpad(i::varchar, 12, '0') || 'AAA' as Id, "
        "strftime(timestamp '2026-01-01' + to_minutes(i % 100000), '%Y-%m-%dT%H:%M:%S.000Z') as CreatedDate, "
        "'false' as IsConverted, '' as ConvertedDate, repeat('x', 200) as Description "
        f"from range(1500000) t(i)) to '{leads}' (header)")
    out = tmp_path / "out"
    out.mkdir()
    (out / "contacts.csv").write_text("contact_id\nold\n")
    before = _tree(out)
    run = subprocess.Popen([sys.executable, "-c", "from pipelines.cli import main; main()", "import", "salesforce",
                            "--leads", str(leads), "--out", str(out), "--timezone", "UTC"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not any(out.glob(".funnelpact-import-*")):  # staged: the export is being read
        assert run.poll() is None and time.monotonic() < deadline, run.communicate()
        time.sleep(0.02)
    time.sleep(0.5)  # past the header checks, inside DuckDB's read
    run.send_signal(getattr(signal, stop))
    _, err = run.communicate(timeout=120)
    assert run.returncode == code, err[-3000:]
    assert f"funnelpact: {said}" in err and "bug" not in err and "Traceback" not in err
    assert _tree(out) == before


@pytest.mark.parametrize("command", [
    ["hubspot", "--contacts", str(EXPORTS / "hubspot" / "contacts_labels.csv")],
    ["salesforce", "--leads", str(EXPORTS / "salesforce" / "Lead.csv")],
    ["csv", "--mapping", str(EXPORTS / "csv" / "mapping.yaml")]])
def test_an_import_with_a_bad_memory_limit_is_exit_2_naming_it_and_leaves_out_as_it_was(tmp_path, monkeypatch, command):
    from pipelines.warehouse.memory_limit import ENV_VAR

    monkeypatch.setenv(ENV_VAR, "2 gigs")
    code, _, err = funnelpact("import", *command, "--out", str(tmp_path / "out"))
    assert code == 2
    assert f"{ENV_VAR}: '2 gigs' is not a memory limit" in " ".join(err.split())
    assert not (tmp_path / "out").exists()  # nor its staging folder, left behind


def test_an_import_out_of_the_memory_its_limit_allows_names_the_limit_not_the_export(tmp_path, monkeypatch):
    """Too small a FUNNELPACT_DUCKDB_MEMORY_LIMIT stopped the read of an export with 'cannot
    read the file; expected a UTF-8 CSV export', exit 2, and a later step with 'this is a bug'."""
    import duckdb

    from pipelines.warehouse.memory_limit import ENV_VAR

    export = tmp_path / "contacts.csv"
    duckdb.connect().execute(f"""copy (select i as "Record ID", '2026-01-05 10:00' as "Create Date",
        '2026-01-05 10:00' as "Became a Lead Date", md5(i::varchar) as "Job Title" from range(200000) t(i))
        to '{export}' (header)""")
    monkeypatch.setenv(ENV_VAR, "10MB")
    code, _, err = funnelpact("import", "hubspot", "--contacts", str(export), "--out", str(tmp_path / "out"))
    assert code == 3
    err = " ".join(err.split())
    assert err.startswith("error Out of Memory Error: ")
    assert err.endswith(f"{ENV_VAR} is 10MB: raise it, or unset it for DuckDB's default")
    assert "cannot read the file" not in err and "bug" not in err
    assert not (tmp_path / "out").exists()
