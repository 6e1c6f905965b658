"""Importers turn hand-written exports, shaped like the real ones, into these exact rows."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from pipelines.wording import counted
from pipelines.data.importers.csv_mapping import import_csv
from pipelines.data.importers.hubspot import import_hubspot, stage_of_column
from pipelines.data.importers.salesforce import import_salesforce
from pipelines.data.load import load_data_dir
from pipelines.data.tables import TABLES
from pipelines.errors import InputError

from .helpers import STAGE_VALUES

EXPORTS = Path(__file__).parents[1] / "fixtures" / "exports"
HUBSPOT, SALESFORCE, CSV = EXPORTS / "hubspot", EXPORTS / "salesforce", EXPORTS / "csv"


def read(out: Path, table: str) -> list[tuple]:
    with (out / f"{table}.csv").open(newline="") as f:
        reader = csv.reader(f)
        assert next(reader) == TABLES[table].column_names
        return [tuple(v or None for v in row) for row in reader]


def events(out: Path) -> list[tuple]:
    return sorted(r[:3] for r in read(out, "lifecycle_events"))


# --- HubSpot ----------------------------------------------------------------------------------

@pytest.mark.parametrize("column, stage", [
    ("Became a Marketing Qualified Lead Date", "mql"),
    ("Became an Opportunity Date", "opportunity"),
    ("Became an Evangelist Date", "evangelist"),
    ("Became an Other Lifecycle Date", "other"),  # HubSpot's label of hs_lifecyclestage_other_date
    ("hs_lifecyclestage_salesqualifiedlead_date", "sql"),
    ("hs_lifecyclestage_subscriber_date", "lead"),
    ("hs_v2_date_entered_customer", "customer"),
    ("hs_v2_date_entered_1234567", "1234567"),
    ("hs_v2_date_entered_current_stage", None),  # the current stage's date again, no stage
    ("hs_date_entered_salesqualifiedlead", "sql"),  # the older twin of hs_v2_date_entered_
    ("Date entered 'Marketing Qualified Lead (Lifecycle Stage Pipeline)'", "mql"),  # its label
    ("Date entered 'Lead (Lifecycle Stage Pipeline)\"", None),
    ('Date entered "Marketing Qualified Lead (Lifecycle Stage Pipeline)"', "mql"),
    ("Create Date", None),
    ("Lifecycle Stage", None),
])
def test_hubspot_lifecycle_date_columns_in_both_naming_styles(column, stage):
    assert stage_of_column(column) == stage


def test_a_hubspot_custom_stage_label_is_written_as_the_agreement_compares_it():
    """A Greek portal's custom stage 'ΠΕΛΑΤΗΣ' (customer), listed so in crm_values: str.lower()
    wrote it with a final 'ς', the agreement's value ends in 'σ' (as DuckDB lower-cases the
    loaded events), and every event was quarantined as unknown_stage."""
    from pipelines.agreement.model import stage_value

    assert stage_of_column("Became a ΠΕΛΑΤΗΣ Date") == stage_value("ΠΕΛΑΤΗΣ")
    assert stage_of_column("hs_v2_date_entered_ΠΕΛΑΤΗΣ") == stage_value("ΠΕΛΑΤΗΣ")


def test_hubspot_label_export_in_the_portal_time_zone(tmp_path):
    written = import_hubspot(HUBSPOT / "contacts_labels.csv", tmp_path,
                             deals=HUBSPOT / "deals_labels.csv", timezone="America/Mexico_City")
    assert written.rows == {"contacts": 4, "lifecycle_events": 11, "deals": 3}
    # Mexico City is UTC-6 all year: 09:15 local is 15:15 UTC.
    assert read(tmp_path, "contacts") == [
        ("101", "2026-01-05T15:15:00Z", "Organic Search", None, "c_level", "Mexico"),
        ("102", "2026-02-11T04:30:00Z", "Paid Search", None, "director", "United States"),
        ("103", "2026-03-01T06:10:00Z", "Referrals", None, "manager", "Colombia"),
        ("104", "not a date", "Direct Traffic", None, "individual", None),
    ]
    assert events(tmp_path) == [
        # Subscriber and Lead dates are both the lead stage: one event, the earliest.
        ("101", "customer", "2026-03-03T00:45:00Z"),
        ("101", "lead", "2026-01-05T15:15:00Z"),
        ("101", "mql", "2026-01-08T22:30:00Z"),
        ("101", "opportunity", "2026-01-20T18:00:00Z"),
        ("101", "sql", "2026-01-09T17:00:00Z"),
        ("102", "lead", "2026-02-11T04:30:00Z"),
        ("102", "mql", "2026-02-12T14:05:00Z"),
        ("103", "customer", "2026-05-04T16:00:00Z"),
        ("103", "evangelist", "2026-06-01T15:00:00Z"),
        ("103", "lead", "2026-03-01T06:10:00Z"),
        ("104", "lead", "2026-03-15T18:00:00Z"),
    ]
    assert read(tmp_path, "deals") == [
        ("9001", "101", "2026-01-20T18:00:00Z", "2026-03-03T00:45:00Z", "won", "15000", None),
        # Open: HubSpot's close date is only the expected one.
        ("9002", "102", "2026-02-20T16:00:00Z", None, "open", "8000", None),
        ("9003", None, "2026-02-01T15:00:00Z", "2026-03-10T15:00:00Z", "lost", "12000.50", None),
    ]


def test_hubspot_internal_names_keep_utc_and_custom_stages_as_is(tmp_path):
    import_hubspot(HUBSPOT / "contacts_internal.csv", tmp_path,
                   deals=HUBSPOT / "deals_internal.csv", timezone="America/Mexico_City")
    assert read(tmp_path, "contacts") == [
        ("201", "2026-04-01T14:00:00Z", "PAID_SOCIAL", "persona_1", "vp", "Spain"),
        ("202", "2026-04-02T08:00:00Z", "ORGANIC_SEARCH", None, None, "Brazil"),
    ]
    assert events(tmp_path) == [
        ("201", "lead", "2026-04-01T14:00:00Z"),
        ("201", "mql", "2026-04-03T09:30:00Z"),
        ("201", "sql", "2026-04-04T15:00:00Z"),
        ("202", "1234567", "2026-04-20T10:00:00Z"),
        ("202", "lead", "2026-04-02T08:00:00Z"),
    ]
    assert read(tmp_path, "deals") == [
        ("9101", "201", "2026-04-10T09:00:00Z", "2026-05-01T17:00:00Z", "won", "20000", "EUR"),
        ("9102", "202", "2026-04-25T09:00:00Z", None, "open", "5000", "EUR"),
    ]


def test_hubspot_epoch_milliseconds_are_utc_instants_whatever_the_time_zone(tmp_path):
    # API-style exports give epoch milliseconds: 1767607200000 is 2026-01-05 10:00:00 UTC.
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("HS_OBJECT_ID,createdate,HS_V2_DATE_ENTERED_MARKETINGQUALIFIEDLEAD\n"
                        "1,1767607200000,1767803415000\n")
    import_hubspot(contacts, tmp_path / "out", timezone="America/Mexico_City")
    assert [r[:2] for r in read(tmp_path / "out", "contacts")] == [("1", "2026-01-05T10:00:00Z")]
    # Internal names read in any case, as the UI labels are.
    assert events(tmp_path / "out") == [("1", "mql", "2026-01-07T16:30:15Z")]


def test_hubspot_earliest_date_of_a_stage_is_the_earliest_instant_a_bad_one_only_alone(tmp_path):
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("Record ID,Create Date,Became a Subscriber Date,Became a Lead Date\n"
                        "1,2026-01-05 10:00,1.5.2026,2026-01-05 10:00\n"
                        "2,2026-01-05 10:00,soon,\n")
    import_hubspot(contacts, tmp_path / "out", timezone="Europe/Madrid")
    assert events(tmp_path / "out") == [
        ("1", "lead", "2026-01-05T09:00:00Z"),  # not '1.5.2026', which sorted first as text
        ("2", "lead", "soon"),  # nothing else: kept for the loader's quarantine
    ]


def test_hubspot_date_entered_current_stage_gives_no_event(tmp_path):
    """An export of every property holds HubSpot's hs_v2_date_entered_current_stage next to the
    per-stage dates: each contact had an event 'current_stage', quarantined as unknown_stage."""
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("hs_object_id,createdate,hs_v2_date_entered_lead,hs_v2_date_entered_marketingqualifiedlead,"
                        "hs_v2_date_entered_current_stage,hs_v2_time_in_current_stage\n"
                        "1,2026-02-02T10:00:00Z,2026-02-02T10:00:00Z,2026-02-03T10:00:00Z,2026-02-03T10:00:00Z,86400000\n"
                        "2,2026-02-05T10:00:00Z,2026-02-05T10:00:00Z,,2026-02-05T10:00:00Z,86400000\n")
    import_hubspot(contacts, tmp_path / "out", timezone="UTC")
    assert events(tmp_path / "out") == [("1", "lead", "2026-02-02T10:00:00Z"), ("1", "mql", "2026-02-03T10:00:00Z"),
                                        ("2", "lead", "2026-02-05T10:00:00Z")]
    assert load_data_dir(tmp_path / "out", duckdb.connect(), STAGE_VALUES).quarantined_rows == 0


def test_hubspot_older_date_entered_columns_give_their_stages(tmp_path):
    """hs_date_entered_<stage>, labelled Date entered '<Stage> (…)' in single quotes: an export
    of only those was refused, and beside other date columns their stages were left out."""
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("Record ID,Create Date,Became a Lead Date,"
                        "Date entered 'Marketing Qualified Lead (Lifecycle Stage Pipeline)'\n"
                        "1,2026-02-02 10:00,2026-02-02 10:00,2026-02-03 10:00\n")
    import_hubspot(contacts, tmp_path / "labels", timezone="Europe/Berlin")
    assert events(tmp_path / "labels") == [("1", "lead", "2026-02-02T09:00:00Z"), ("1", "mql", "2026-02-03T09:00:00Z")]
    contacts.write_text("hs_object_id,createdate,hs_date_entered_lead,hs_date_exited_lead\n"
                        "1,2026-02-02T10:00:00Z,2026-02-02T10:00:00Z,2026-02-03T10:00:00Z\n")
    import_hubspot(contacts, tmp_path / "internal", timezone="UTC")
    assert events(tmp_path / "internal") == [("1", "lead", "2026-02-02T10:00:00Z")]


def test_hubspot_import_loads_and_quarantines_what_the_agreement_does_not_know(tmp_path):
    import_hubspot(HUBSPOT / "contacts_labels.csv", tmp_path, deals=HUBSPOT / "deals_labels.csv")
    report = load_data_dir(tmp_path, duckdb.connect(), STAGE_VALUES)
    assert report.by_reason == {"bad_timestamp:created_at": 1, "unknown_contact": 1,
                                "unknown_stage": 1}
    assert report.tables["deals"].rows_loaded == 3


def test_hubspot_export_without_an_id_column_names_file_and_columns(tmp_path):
    bad = tmp_path / "contacts.csv"
    bad.write_text("Email,Create Date\na@example.com,2026-01-01 10:00\n")
    with pytest.raises(InputError) as exc:
        import_hubspot(bad, tmp_path / "out")
    assert str(exc.value) == (f"{bad} Record ID: missing the contact id column; expected "
                              "'Record ID' or 'hs_object_id' or 'Contact ID' or 'vid'")


@pytest.mark.parametrize("header, column", [
    ("Record ID,Create Date,Create Date,Became a Lead Date", "Create Date"),
    ("Record ID,Create Date,create date,Became a Lead Date", "Create Date"),
    ("Record ID,Create Date,Became a Lead Date,Became a Lead Date", "Became a Lead Date"),
], ids=["the same name", "names differing in case", "a stage date column"])
def test_a_column_the_import_reads_named_twice_is_refused_not_one_copy_dropped(tmp_path, header, column):
    """Contact 2's create date is in the second copy only: the first was read, and the contact
    was quarantined as missing its created_at (a lead date in the second copy was no event)."""
    export = tmp_path / "contacts.csv"
    export.write_text(f"{header}\n1,2026-01-05,2026-01-05,2026-01-05\n2,,2026-01-06,2026-01-06\n")
    with pytest.raises(InputError) as exc:
        import_hubspot(export, tmp_path / "out")
    assert str(exc.value) == (f"{export} {column}: column '{column}' is named 2 times "
                              "(names match ignoring case): expected it once")


def test_an_export_column_named_rowid_does_not_hide_the_rows_the_import_counts(tmp_path):
    """The export's 'rowid' hid DuckDB's row numbers: two copies of a row (the same rowid)
    gave one event, not two that the loader counts as a duplicate, and a refused value was
    named without its line."""
    export = tmp_path / "contacts.csv"
    export.write_text("Record ID,Create Date,Became a Lead Date,RowID\n1,2026-01-05 10:00,2026-01-05 10:00,7\n"
                      "1,2026-01-05 10:00,2026-01-05 10:00,7\n")
    import_hubspot(export, tmp_path / "out")
    assert events(tmp_path / "out") == [("1", "lead", "2026-01-05T10:00:00Z")] * 2
    with export.open("a") as f:
        f.write("2,2026-01-06 10:00,13/01/2026 09:00,8\n")
    with pytest.raises(InputError) as exc:
        import_hubspot(export, tmp_path / "out")
    assert str(exc.value).startswith(f"{export}:4 Became a Lead Date: '13/01/2026 09:00' is a day-first date")


def test_a_mapping_may_read_a_column_named_rowid(tmp_path):
    (tmp_path / "touches.csv").write_text("ROWID,Person,When,Who\nT-1,P-1,2026-01-05 10:00,sales\n")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("tables:\n  activities: {file: touches.csv, columns: {activity_id: ROWID, "
                       "contact_id: Person, occurred_at: When, team: Who}}\n")
    import_csv(mapping, tmp_path / "out")
    assert read(tmp_path / "out", "activities") == [("T-1", "P-1", "2026-01-05T10:00:00Z", "sales", None)]


# 'America' is tzdata's folder of American zones (ZoneInfo raised IsADirectoryError, a
# traceback); 'posixrules' and 'localtime' are files ZoneInfo reads but DuckDB, which converts
# the times, knows no zone of that name (its error was a traceback too).
@pytest.mark.parametrize("zone", ["Mars/Olympus", "America", "posixrules", "localtime"])
def test_hubspot_unknown_time_zone(tmp_path, zone):
    with pytest.raises(InputError, match=f"unknown time zone '{zone}'"):
        import_hubspot(HUBSPOT / "contacts_labels.csv", tmp_path, timezone=zone)


# --- Salesforce -------------------------------------------------------------------------------

LEAD1, LEAD2, LEAD3, LEAD4 = (f"00Q00000000000{i}AAA" for i in range(1, 5))


def test_salesforce_data_loader_exports(tmp_path):
    written = import_salesforce(SALESFORCE / "Lead.csv", tmp_path,
                                lead_history=SALESFORCE / "LeadHistory.csv",
                                opportunities=SALESFORCE / "Opportunity.csv",
                                tasks=SALESFORCE / "Task.csv", timezone="America/Mexico_City")
    assert written.rows == {"contacts": 4, "deals": 2, "lifecycle_events": 12, "activities": 3}
    assert read(tmp_path, "contacts") == [
        (LEAD1, "2026-01-05T15:15:00Z", "Web", None, "vp", "Mexico"),
        (LEAD2, "2026-02-10T22:30:00Z", "Webinar", None, "manager", "United States"),
        (LEAD3, "2026-03-01T06:10:00Z", "Partner Referral", None, None, "Colombia"),
        (LEAD4, "2026-03-15T18:00:00Z", "Web", None, "c_level", None),
    ]
    assert events(tmp_path) == [
        (LEAD1, "customer", "2026-03-02T06:00:00Z"),  # CloseDate 2026-03-02, 00:00 local
        (LEAD1, "lead", "2026-01-05T15:15:00Z"),
        (LEAD1, "mql", "2026-01-08T22:30:00Z"),
        (LEAD1, "opportunity", "2026-01-20T18:05:00Z"),
        (LEAD1, "sql", "2026-01-20T18:00:00Z"),  # the history's leadConverted row
        (LEAD2, "lead", "2026-02-10T22:30:00Z"),
        (LEAD2, "mql", "2026-02-12T14:05:00Z"),
        (LEAD2, "recycled", "2026-02-14T10:00:00Z"),
        (LEAD3, "disqualified", "2026-03-02T09:00:00Z"),
        (LEAD3, "lead", "2026-03-01T06:10:00Z"),
        (LEAD4, "hot", "2026-03-16T09:00:00Z"),  # a custom status: for crm_values
        (LEAD4, "lead", "2026-03-15T18:00:00Z"),
    ]
    assert read(tmp_path, "deals") == [
        ("006000000000001AAA", LEAD1, "2026-01-20T18:05:00Z", "2026-03-02T06:00:00Z", "won",
         "15000.00", "USD"),
        ("006000000000002AAA", None, "2026-02-20T16:00:00Z", None, "open", "8000.00", "USD"),
    ]
    assert read(tmp_path, "activities") == [
        ("00T000000000001AAA", LEAD1, "2026-01-08T23:10:00Z", "sales", "call"),
        # Logged on the converted Contact: belongs to its lead.
        ("00T000000000002AAA", LEAD1, "2026-01-22T15:00:00Z", "sales", "email"),
        ("00T000000000003AAA", LEAD2, "2026-02-12T20:00:00Z", "sales", "call"),
    ]


def test_salesforce_report_export_with_naive_local_times_and_only_leads(tmp_path):
    import_salesforce(SALESFORCE / "report_local" / "Lead.csv", tmp_path,
                      timezone="America/Mexico_City")
    assert events(tmp_path) == [
        ("00Q000000000009AAA", "lead", "2026-07-01T16:00:00Z"),
        ("00Q000000000009AAA", "sql", "2026-07-15T06:00:00Z"),
    ]
    assert not (tmp_path / "deals.csv").exists()


def test_salesforce_import_loads(tmp_path):
    import_salesforce(SALESFORCE / "Lead.csv", tmp_path,
                      lead_history=SALESFORCE / "LeadHistory.csv",
                      opportunities=SALESFORCE / "Opportunity.csv", tasks=SALESFORCE / "Task.csv")
    report = load_data_dir(tmp_path, duckdb.connect(), STAGE_VALUES | {"hot"})
    assert report.quarantined_rows == 0
    assert report.tables["activities"].rows_loaded == 3


def test_salesforce_lead_export_without_converted_date(tmp_path):
    bad = tmp_path / "Lead.csv"
    bad.write_text("Id,CreatedDate,IsConverted\n00Q1,2026-01-01T00:00:00.000Z,false\n")
    with pytest.raises(InputError, match="missing the converted date column; expected "
                                         "'ConvertedDate' or 'Converted Date'"):
        import_salesforce(bad, tmp_path / "out")


# The fixtures' columns under their labels in Salesforce's Field Reference (and "Create Date",
# as a lead report writes it), written out here rather than taken from the importer.
FIELD_LABELS = {
    "Lead.csv": {"Id": "Lead ID", "CreatedDate": "Create Date", "Status": "Lead Status",
                 "IsConverted": "Converted", "ConvertedDate": "Converted Date",
                 "ConvertedContactId": "Converted Contact ID",
                 "ConvertedOpportunityId": "Converted Opportunity ID", "LeadSource": "Lead Source"},
    "LeadHistory.csv": {"Id": "Lead History ID", "LeadId": "Lead ID", "CreatedDate": "Created Date",
                        "Field": "Changed Field", "OldValue": "Old Value", "NewValue": "New Value"},
    "Opportunity.csv": {"Id": "Opportunity ID", "Name": "Opportunity Name", "CreatedDate": "Created Date",
                        "CloseDate": "Close Date", "StageName": "Stage", "IsClosed": "Closed",
                        "IsWon": "Won", "CurrencyIsoCode": "Opportunity Currency"},
    "Task.csv": {"Id": "Activity ID", "WhoId": "Name ID", "CreatedDate": "Created Date",
                 "CompletedDateTime": "Completed Date/Time"},
}


def test_salesforce_exports_with_field_labels_give_what_api_names_give(tmp_path):
    """A report's CSV, or a tool set to show labels, names the columns by their labels: the
    import read none of them ("missing the lead Id column") though every field was there."""
    labelled = tmp_path / "labelled"
    labelled.mkdir()
    for name, labels in FIELD_LABELS.items():
        with (SALESFORCE / name).open(newline="") as f:
            rows = list(csv.reader(f))
        rows[0] = [labels.get(c, c) for c in rows[0]]
        if name == "LeadHistory.csv":  # a report names the changed field by its label too
            rows[1:] = [[{"Status": "Lead Status"}.get(v, v) for v in row] for row in rows[1:]]
        with (labelled / name).open("w", newline="") as f:
            csv.writer(f).writerows(rows)
        assert rows[0] != next(csv.reader((SALESFORCE / name).open())), f"{name}: no column renamed"
    written = {}
    for folder, out in ((SALESFORCE, tmp_path / "api"), (labelled, tmp_path / "labels")):
        written[out.name] = import_salesforce(
            folder / "Lead.csv", out, lead_history=folder / "LeadHistory.csv",
            opportunities=folder / "Opportunity.csv", tasks=folder / "Task.csv", timezone="America/Mexico_City")
    assert written["labels"].rows == written["api"].rows == {
        "contacts": 4, "deals": 2, "lifecycle_events": 12, "activities": 3}
    for table in ("contacts", "lifecycle_events", "deals", "activities"):
        assert read(tmp_path / "labels", table) == read(tmp_path / "api", table), table


# --- CSV by mapping ---------------------------------------------------------------------------

def test_csv_mapping_with_wide_stage_dates_value_maps_and_local_times(tmp_path):
    written = import_csv(CSV / "mapping.yaml", tmp_path)
    assert written.rows == {"contacts": 3, "lifecycle_events": 7, "activities": 2, "deals": 2}
    assert read(tmp_path, "contacts") == [
        ("P-1", "2026-01-05T15:15:00Z", "paid_search", None, "director", "MX"),
        ("P-2", "2026-02-11T05:30:00Z", "email", None, "vp", "MX"),
        ("P-3", "2026-03-01T14:00:00Z", "paid_search", None, None, "MX"),
    ]
    assert events(tmp_path) == [
        ("P-1", "lead", "2026-01-05T15:15:00Z"), ("P-1", "mql", "2026-01-07T16:00:00Z"),
        ("P-1", "sql", "2026-01-09T18:30:00Z"), ("P-2", "lead", "2026-02-11T05:30:00Z"),
        ("P-3", "customer", "2026-04-15T23:00:00Z"), ("P-3", "lead", "2026-03-01T14:00:00Z"),
        ("P-3", "mql", "2026-03-02T14:00:00Z"),
    ]
    assert read(tmp_path, "activities") == [
        ("T-1", "P-1", "2026-01-07T17:00:00Z", "sales", "Call"),
        ("T-2", "P-3", "2026-03-02T18:00:00Z", "marketing", "Email"),
    ]
    # Offsets in the file win over the mapping's time zone.
    assert read(tmp_path, "deals") == [
        ("X-1", "P-1", "2026-01-10T15:00:00Z", "2026-02-01T18:00:00Z", "won", "12000", "MXN"),
        ("X-2", "P-3", "2026-03-05T15:00:00Z", None, "open", "9000", "MXN"),
    ]
    report = load_data_dir(tmp_path, duckdb.connect(), STAGE_VALUES)
    assert report.quarantined_rows == 0


@pytest.mark.parametrize("mapping, message", [
    ("tables: {}\n", "tables: expected a 'tables' mapping"),
    ("tables: {people: {file: people.csv}}\n", "tables.people: unknown table"),
    ("tables: {contacts: {file: people.csv, columns: {email: Email}}}\n",
     "tables.contacts.columns.email: not a column of contacts"),
    ("tables: {contacts: {file: people.csv, delimiter: ';', columns: {contact_id: Nope}}}\n",
     "tables.contacts.columns.contact_id: column 'Nope' (mapped to contact_id) not found"),
    ("tables: {contacts: {file: people.csv, delimiter: ';', columns: {contact_id: Person ID}}}\n",
     "tables.contacts.columns.created_at: required column 'created_at' of contacts is not mapped"),
    ("timezone: Nowhere/City\ntables: {contacts: {file: people.csv}}\n",
     "timezone: unknown time zone 'Nowhere/City'"),
    ("tables: [contacts\n", ":2:1: invalid YAML: while parsing a flow sequence"),
    ("tables: {contacts: {file: people.csv, delimiter: ';', timestamp_format: '%Q garbage', "
     "columns: {contact_id: Person ID}}}\n",
     "tables.contacts.timestamp_format: '%Q garbage' is not a strptime format"),
    # YAML reads unquoted NO as false and ~ as null: str() wrote 'False' and 'None' into rows.
    ("tables: {contacts: {file: people.csv, constants: {country: NO}}}\n",
     "tables.contacts.constants.country: expected text, but YAML reads the value as the boolean "
     "false (unquoted yes/no/on/off/true/false are booleans): quote it in the mapping"),
    ("tables: {contacts: {file: people.csv, values: {source: {'No': ~}}}}\n",
     "tables.contacts.values.source.No: expected text, but YAML reads the value as nothing"),
    ("tables: {contacts: {file: people.csv, values: {source: {Yes: paid}}}}\n",
     "tables.contacts.values.source: expected text, but YAML reads the key True as the boolean true"),
    ("tables: {contacts: {file: people.csv, constants: {created_at: 2026-01-05}}}\n",
     "tables.contacts.constants.created_at: expected text, but YAML reads the value as the date 2026-01-05"),
    ("tables: {contacts: {file: people.csv, delimiter: 5}}\n",
     "tables.contacts.delimiter: expected text, but YAML reads the value as the number 5"),
    ("tables: {contacts: {file: people.csv, constants: {country: 1.5}}}\n",
     "tables.contacts.constants.country: expected text, but YAML reads the value as the number 1.5"),
    ("tables: {contacts: {file: people.csv, constants: {region: EU}}}\n",
     "tables.contacts.constants.region: not a column of contacts"),
    # A key YAML reads as null is named as written, not as Python's 'None'.
    ("tables: {contacts: {file: people.csv, columns: {null: x}}}\n",
     "tables.contacts.columns.null: not a column of contacts"),
    ("tables: {contacts: {file: ~}}\n", "tables.contacts.file: expected text, but YAML reads the value as nothing"),
    ("tables: {contacts: {columns: {contact_id: id}}}\n", "tables.contacts.file: missing; expected the export's file"),
    ("tables: {contacts: {file: nope.csv}}\n", "tables.contacts.file: {dir}/nope.csv: file not found"),
    ("tables: {lifecycle_events: {file: people.csv, delimiter: ';', columns: {contact_id: Person ID}, "
     "stage_columns: {mql: Nope}}}\n",
     "tables.lifecycle_events.stage_columns.mql: column 'Nope' (mapped to occurred_at) not found"),
    # YAML keeps the last of two keys, and ignores none: the first zone, or all of it, was lost.
    ("timezone: America/Mexico_City\ntimezone: UTC\ntables: {contacts: {file: people.csv}}\n",
     ":2:1 timezone: duplicate key 'timezone': each key may appear once"),
    ("tables:\n  contacts: {file: people.csv, columns: {contact_id: Person ID}, columns: {created_at: Signed up}}\n",
     ":2:66 tables.contacts.columns: duplicate key 'columns'"),
    ("timezon: America/Mexico_City\ntables: {contacts: {file: people.csv}}\n",
     "timezon: unknown key; expected tables, timezone"),
    ("tables: {contacts: {file: people.csv, columns: {contact_id: Person ID}, constants: {contact_id: X}}}\n",
     "tables.contacts.constants.contact_id: contact_id is also given by tables.contacts.columns.contact_id; "
     "expected one source per column"),
    ("tables: {lifecycle_events: {file: people.csv, columns: {contact_id: Person ID, stage: Stage}, "
     "stage_columns: {mql: MQL date}}}\n",
     "tables.lifecycle_events.columns.stage: stage is also given by tables.lifecycle_events.stage_columns"),
], ids=["no tables", "unknown table", "unknown column", "missing source column",
        "unmapped required column", "bad time zone", "broken YAML", "bad timestamp format",
        "unquoted NO", "null value", "unquoted Yes key", "date constant", "number delimiter",
        "decimal constant", "unknown constant", "null key", "null file", "no file", "file not found", "missing stage column",
        "duplicate top-level key", "duplicate table key", "unknown top-level key",
        "column and constant", "column and stage_columns"])
def test_csv_mapping_errors_name_the_mapping_field(tmp_path, mapping, message):
    (tmp_path / "people.csv").write_text((CSV / "people.csv").read_text())
    path = tmp_path / "mapping.yaml"
    path.write_text(mapping)
    with pytest.raises(InputError) as exc:
        import_csv(path, tmp_path / "out")
    assert str(exc.value).startswith(str(path))
    assert message.format(dir=tmp_path) in str(exc.value)


MULTI_LINE_MAPPING = (
    "timezone: America/Mexico_City\n"
    "tables:\n"
    "  contacts:\n"
    "    file: people.csv\n"
    "    delimiter: ';'\n"
    "    columns: {contact_id: Person ID, created_at: Signed up}\n"
    "    values:\n"
    "      source: {Acme Inc.: paid_search}\n"
    "  lifecycle_events:\n"
    "    file: people.csv\n"
    "    delimiter: ';'\n"
    "    columns:\n"
    "      contact_id: Person ID\n"
    "    stage_columns: {lead: Signed up, mql: MQL date}\n")


@pytest.mark.parametrize("change, expected", [
    (("stage_columns: {lead: Signed up, mql: MQL date}", "stage_columns: {lead: Signed up, mql: Nope}"),
     ":14:38 tables.lifecycle_events.stage_columns.mql: column 'Nope' (mapped to occurred_at) not found"),
    (("      contact_id: Person ID\n", "      contact_id: Person ID\n      country: Country\n"),
     ":14:7 tables.lifecycle_events.columns.country: not a column of lifecycle_events"),
    (("{Acme Inc.: paid_search}", "{Acme Inc.: 5}"),
     ":8:16 tables.contacts.values.source.Acme Inc.: expected text, but YAML reads the value as the number 5"),
    (("created_at: Signed up}", "source: Channel}"),
     ":6:5 tables.contacts.columns.created_at: required column 'created_at' of contacts is not mapped"),
    (("timezone: America/Mexico_City", "timezone: Mexico City"), ":1:1 timezone: unknown time zone"),
], ids=["a column the export lacks", "a column the table lacks", "a value of a value map with a dot in its key",
        "a required column not mapped: the table's columns", "a check shared with the other importers"])
def test_csv_mapping_errors_name_the_line_and_column_of_the_field(tmp_path, change, expected):
    """The field's path alone left the line to be searched for in a mapping of several tables,
    each with its own `columns:`."""
    (tmp_path / "people.csv").write_text((CSV / "people.csv").read_text())
    path = tmp_path / "mapping.yaml"
    assert change[0] in MULTI_LINE_MAPPING
    path.write_text(MULTI_LINE_MAPPING.replace(*change))
    with pytest.raises(InputError) as exc:
        import_csv(path, tmp_path / "out")
    assert str(exc.value).startswith(f"{path}{expected}")


def test_a_mapping_saved_as_latin1_is_named_with_its_line_not_a_crash(tmp_path):
    """As an agreement is: it stopped the import with exit 3 and a UnicodeDecodeError."""
    (tmp_path / "people.csv").write_text((CSV / "people.csv").read_text())
    path = tmp_path / "mapping.yaml"
    path.write_bytes("tables:\n  contacts:\n    file: people.csv\n    constants: {country: México}\n".encode("latin-1"))
    with pytest.raises(InputError) as exc:
        import_csv(path, tmp_path / "out")
    assert str(exc.value) == f"{path}:4: byte 0xe9 is not UTF-8 text: expected the file saved as UTF-8"


def test_csv_mapping_whose_file_is_an_output_of_the_import_is_refused(tmp_path):
    """Two tables read people.csv; with --out beside it, contacts.csv would overwrite it midway."""
    (tmp_path / "contacts.csv").write_text((CSV / "people.csv").read_text())
    before = (tmp_path / "contacts.csv").read_text()
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "tables:\n"
        "  lifecycle_events: {file: contacts.csv, delimiter: ';', columns: {contact_id: Person ID},"
        " stage_columns: {lead: Signed up}}\n"
        "  contacts: {file: contacts.csv, delimiter: ';',"
        " columns: {contact_id: Person ID, created_at: Signed up}}\n")
    with pytest.raises(InputError) as exc:
        import_csv(mapping, tmp_path)
    assert str(exc.value) == (
        f"{mapping}:2:22 tables.lifecycle_events.file: {tmp_path / 'contacts.csv'}: is the file this import "
        f"writes for the contacts table ({tmp_path / 'contacts.csv'}); expected an export outside "
        "the output folder, or another --out")
    assert (tmp_path / "contacts.csv").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["contacts.csv", "mapping.yaml"]


# A Pipedrive activities export: calls and meetings are touches; to-dos (Task) and deadlines are
# not, and a deadline of a deal has no person.
PIPEDRIVE_ACTIVITIES = (
    "ID,Subject,Type,Done,Due date,Person ID\n"
    "1,Intro call,Call,1,2026-01-07T17:00:00Z,P-1\n"
    "2,Send deck,Task,1,2026-01-07T18:00:00Z,P-1\n"
    "3,Demo,Meeting,0,2026-03-02T15:00:00Z,P-3\n"
    "4,Contract due,Deadline,0,2026-03-20T00:00:00Z,\n"
    "5,Follow-up,Task,0,2026-03-03T16:00:00Z,P-3\n"
    "6,No type,,1,2026-03-04T16:00:00Z,P-3\n"
    "7,Check-in, Call ,1,2026-03-05T16:00:00Z,P-3\n")

PEOPLE = ("tables:\n"
          "  contacts: {file: people.csv, delimiter: ';', timestamp_format: '%d/%m/%Y %H:%M',"
          " columns: {contact_id: Person ID, created_at: Signed up}}\n"
          "  lifecycle_events: {file: people.csv, delimiter: ';', timestamp_format: '%d/%m/%Y %H:%M',"
          " columns: {contact_id: Person ID}, stage_columns: {lead: Signed up}}\n")


def import_activities(tmp_path: Path, *filters: str, activities: str = PIPEDRIVE_ACTIVITIES):
    """Import the fixture's people and `activities`, its table with these filter lines."""
    (tmp_path / "people.csv").write_text((CSV / "people.csv").read_text())
    (tmp_path / "activities.csv").write_text(activities)
    mapping = tmp_path / "crm.yaml"
    mapping.write_text(PEOPLE + (
        "  activities:\n"
        "    file: activities.csv\n"
        "    columns: {activity_id: ID, contact_id: Person ID, occurred_at: Due date, type: Type}\n"
        "    constants: {team: sales}\n") + "".join(f"    {line}\n" for line in filters))
    return import_csv(mapping, tmp_path / "out")


def test_keep_rows_imports_only_the_rows_whose_column_holds_a_listed_value_and_says_what_it_left_out(tmp_path):
    """Without it, the to-dos were touches and the deadline without a person was quarantined,
    counted against the quarantine rate."""
    imported = import_activities(tmp_path, "keep_rows: {column: Type, values: [Call, Meeting, Lunch]}")
    out = tmp_path / "out"
    # ' Call ' is Call, as the loader reads it: blanks around a value do not count.
    assert [(r[0], r[4]) for r in read(out, "activities")] == [("1", "Call"), ("3", "Meeting"), ("7", "Call")]
    assert imported.rows["activities"] == 3
    assert imported.left_out == {"activities": 4}
    assert ("note: tables.activities.keep_rows left out 4 of 7 rows of activities.csv, by Type: 'Task' 2, "
            "'Deadline' 1, empty 1; no row has Type 'Lunch'") in imported.notes
    report = load_data_dir(out, duckdb.connect(), STAGE_VALUES)
    assert (report.tables["activities"].rows_read, report.quarantined_rows) == (3, 0)


def test_skip_rows_after_keep_rows_leaves_out_the_rows_holding_a_listed_value_or_an_empty_one(tmp_path):
    imported = import_activities(tmp_path, "keep_rows: {column: Done, values: ['1']}",
                                 "skip_rows: {column: Type, values: [Task, '', Email]}")
    assert [r[0] for r in read(tmp_path / "out", "activities")] == ["1", "7"]
    # Counted once, by the first filter that leaves a row out: 2 and 6 are done, so skip_rows's,
    # of the 4 rows keep_rows kept (the file's 7 hold another task, 5, not done).
    assert [n for n in imported.notes if "_rows" in n] == [
        "note: tables.activities.keep_rows left out 3 of 7 rows of activities.csv, by Done: '0' 3",
        "note: tables.activities.skip_rows left out 2 of the 4 rows of activities.csv keep_rows kept, by Type: "
        "'Task' 1, empty 1; no row has Type 'Email'"]
    assert imported.left_out == {"activities": 5}


def test_a_row_a_filter_leaves_out_is_not_checked_but_kept_it_is_refused_naming_its_line(tmp_path):
    """Pipedrive writes a to-do's due date as its user typed it: a day-first date in a to-do
    that keep_rows left out, of a deal (no person), refused the whole import."""
    todo = PIPEDRIVE_ACTIVITIES.replace("5,Follow-up,Task,0,2026-03-03T16:00:00Z,P-3",
                                        "5,Follow-up,Task,0,13/03/2026 16:00,")
    imported = import_activities(tmp_path, "keep_rows: {column: Type, values: [Call, Meeting]}", activities=todo)
    out = tmp_path / "out"
    assert [r[0] for r in read(out, "activities")] == ["1", "3", "7"]
    assert imported.left_out == {"activities": 4}
    report = load_data_dir(out, duckdb.connect(), STAGE_VALUES)
    assert (report.tables["activities"].rows_read, report.quarantined_rows) == (3, 0)
    with pytest.raises(InputError) as exc:
        import_activities(tmp_path, "keep_rows: {column: Type, values: [Call, Meeting, Task]}", activities=todo)
    assert str(exc.value).startswith(f"{tmp_path / 'activities.csv'}:6 Due date: '13/03/2026 16:00' is a "
                                     "day-first date")
    assert [r[0] for r in read(out, "activities")] == ["1", "3", "7"]  # the last import's, as it was


def test_the_warnings_on_an_export_s_times_count_only_the_rows_its_filters_keep(tmp_path):
    """The rows left out are counted in the filter's note, not also in the warnings on the
    values imported: the deadline's date, left out, is no calendar date read as midnight UTC."""
    activities = ("ID,Type,Due date,Person ID\n1,Call,2026-01-07 17:00,P-1\n2,Task,2026-01-08 09:00,P-1\n"
                  "3,Deadline,2026-03-20,\n4,Meeting,2026-03-02 15:00,P-3\n")
    imported = import_activities(tmp_path, "skip_rows: {column: Type, values: [Task, Deadline]}",
                                 activities=activities)
    assert [n for n in imported.notes if "activities" in n] == [
        "warning: activities.csv Due date: 2 times without an offset read as UTC; if the export writes local "
        "times (a CRM's UI exports write the user's zone), set timezone: <the export's zone> in the mapping",
        "note: tables.activities.skip_rows left out 2 of 4 rows of activities.csv, by Type: 'Deadline' 1, "
        "'Task' 1"]


def test_a_row_filter_on_a_file_two_tables_read_leaves_out_the_wide_form_s_events_too(tmp_path):
    """The filter's column is read with the columns the other table of the file maps (the file
    is read once), and lifecycle_events' stage dates come of the rows kept only."""
    (tmp_path / "people.csv").write_text((CSV / "people.csv").read_text())
    mapping = tmp_path / "crm.yaml"
    mapping.write_text(
        "tables:\n"
        "  contacts: {file: people.csv, delimiter: ';', timestamp_format: '%d/%m/%Y %H:%M',"
        " columns: {contact_id: Person ID, created_at: Signed up},"
        " skip_rows: {column: Channel, values: [Newsletter]}}\n"
        "  lifecycle_events: {file: people.csv, delimiter: ';', timestamp_format: '%d/%m/%Y %H:%M',"
        " columns: {contact_id: Person ID}, stage_columns: {lead: Signed up, mql: MQL date},"
        " skip_rows: {column: Channel, values: [Newsletter]}}\n")
    imported = import_csv(mapping, tmp_path / "out")
    assert [r[0] for r in read(tmp_path / "out", "contacts")] == ["P-1", "P-3"]
    assert [r[:2] for r in events(tmp_path / "out")] == [
        ("P-1", "lead"), ("P-1", "mql"), ("P-3", "lead"), ("P-3", "mql")]
    assert imported.left_out == {"contacts": 1, "lifecycle_events": 1}
    assert imported.rows == {"contacts": 2, "lifecycle_events": 4}


# P-2 and P-4 are no Google Ads sign-ups; P-3 has a Newsletter row too, and a Google Ads one.
FILTERED_PEOPLE = ("Person ID,Signed up,Channel,MQL date\n"
                   "P-1,2026-01-05T09:15:00Z,Google Ads,2026-01-07T10:00:00Z\n"
                   "P-2,2026-02-10T23:30:00Z,Newsletter,2026-02-11T10:00:00Z\n"
                   "P-3,2026-03-01T08:00:00Z,Newsletter,\n"
                   "P-3,2026-03-01T08:00:00Z,Google Ads,\n"
                   "P-4,2026-03-02T08:00:00Z,Partner,\n")
KEEP_GOOGLE_ADS = "keep_rows: {column: Channel, values: [Google Ads]}"


def import_filtered_people(tmp_path: Path, contacts_filter: str, events_filter: str = "",
                           events_first: bool = False):
    """Import FILTERED_PEOPLE as contacts (with `contacts_filter`) and their wide stage dates
    (with `events_filter`), and activities of P-1, P-2, P-3 and of P-9, whom the export lacks;
    then load what it wrote. The import's notes on contacts left out, and the rows the loader
    quarantined as unknown_contact per table."""
    (tmp_path / "people.csv").write_text(FILTERED_PEOPLE)
    (tmp_path / "activities.csv").write_text(
        "ID,Person ID,Due date\n1,P-1,2026-01-08T10:00:00Z\n2,P-2,2026-02-12T10:00:00Z\n"
        "3,P-9,2026-02-13T10:00:00Z\n4,P-3,2026-03-03T10:00:00Z\n")
    tables = [f"  contacts: {{file: people.csv, columns: {{contact_id: Person ID, created_at: Signed up}}"
              f"{', ' * bool(contacts_filter)}{contacts_filter}}}\n",
              "  lifecycle_events: {file: people.csv, columns: {contact_id: Person ID},"
              f" stage_columns: {{lead: Signed up, mql: MQL date}}{', ' * bool(events_filter)}{events_filter}}}\n"]
    mapping = tmp_path / "crm.yaml"
    mapping.write_text("tables:\n" + "".join(reversed(tables) if events_first else tables)
                       + "  activities: {file: activities.csv, constants: {team: sales},"
                       " columns: {activity_id: ID, contact_id: Person ID, occurred_at: Due date}}\n")
    imported = import_csv(mapping, tmp_path / "out")
    con = duckdb.connect()
    load_data_dir(tmp_path / "out", con, STAGE_VALUES)
    quarantined = dict(con.execute("select table_name, count(*) from raw.quarantine "
                                   "where reason = 'unknown_contact' group by all").fetchall())
    return [n for n in imported.notes if "unknown_contact" in n], quarantined


@pytest.mark.parametrize("events_first", [False, True], ids=["contacts first", "events first"])
def test_rows_of_people_a_contacts_filter_left_out_are_warned_of_as_the_loader_quarantines_them(
        tmp_path, events_first):
    """A filter is its table's only: events and activities of the people contacts' keep_rows
    left out were imported without a word, and a run quarantined them as unknown_contact,
    against the quarantine rate. Whether contacts or their events come first in the mapping.
    P-3's Newsletter row is left out, but its Google Ads row kept: P-3 is a contact."""
    warned, quarantined = import_filtered_people(tmp_path, KEEP_GOOGLE_ADS, events_first=events_first)
    assert warned == [
        "warning: tables.lifecycle_events writes 3 events of 2 people that tables.contacts.keep_rows left out of "
        "people.csv; the loader will quarantine them as unknown_contact, against data_quality:quarantine_rate: "
        "give tables.lifecycle_events the same keep_rows, or drop the filter from tables.contacts",
        # P-9's, whom the export lacks, the loader's quarantine says of: no filter left P-9 out.
        "warning: tables.activities writes 1 activity of 1 person that tables.contacts.keep_rows left out of "
        "people.csv; the loader will quarantine it as unknown_contact, against data_quality:quarantine_rate: "
        "leave it out of tables.activities too (a keep_rows or skip_rows of activities.csv), or drop the "
        "filter from tables.contacts"]
    assert quarantined == {"lifecycle_events": 3, "activities": 1 + 1}


def test_no_warning_of_a_table_that_leaves_the_same_people_out_and_both_filters_are_named(tmp_path):
    """lifecycle_events given contacts' filter writes no event of the people it leaves out, and
    the loader quarantines none; activities, of another file, still has P-2's. A filter that
    leaves out no one the other tables have rows of says nothing. With both filters on
    contacts, the warning names both."""
    same = "skip_rows: {column: Channel, values: [Newsletter, Partner]}"
    warned, quarantined = import_filtered_people(tmp_path, same, same)
    assert [w.split(" writes ")[0] for w in warned] == ["warning: tables.activities"]
    assert quarantined == {"activities": 2}
    partner = "skip_rows: {column: Channel, values: [Partner]}"
    assert import_filtered_people(tmp_path, partner, partner) == ([], {"activities": 1})
    warned, _ = import_filtered_people(tmp_path, "keep_rows: {column: Channel, values: [Google Ads, Partner]}, "
                                       "skip_rows: {column: Signed up, values: ['2026-03-02T08:00:00Z']}",
                                       KEEP_GOOGLE_ADS)
    assert warned == [
        "warning: tables.activities writes 1 activity of 1 person that tables.contacts.keep_rows and skip_rows "
        "left out of people.csv; the loader will quarantine it as unknown_contact, against "
        "data_quality:quarantine_rate: leave it out of tables.activities too (a keep_rows or skip_rows of "
        "activities.csv), or drop the filters from tables.contacts"]


FILTERED = ("tables:\n"
            "  contacts:\n"
            "    file: people.csv\n"
            "    delimiter: ';'\n"
            "    columns: {contact_id: Person ID, created_at: Signed up}\n")
SHAPE = "expected a mapping {column: <a column of the export>, values: [<value>, …]}"


@pytest.mark.parametrize("written, expected", [
    ("keep_rows: {column: Chanel, values: [Google Ads]}",
     ":6:17 tables.contacts.keep_rows.column: column 'Chanel' (named in keep_rows) not found in people.csv; "
     "it has: Person ID, Signed up, Channel, Job level, MQL date, SQL date, Won date"),
    ("keep_rows: {colum: Channel, values: [Google Ads]}",
     ":6:17 tables.contacts.keep_rows.colum: unknown key; expected column and values"),
    ("keep_rows: {column: Channel, values: Google Ads}",
     ":6:34 tables.contacts.keep_rows.values: expected a list of at least one of the column's values, "
     "e.g. [Call, Meeting], got the text 'Google Ads': write [Google Ads] for one value"),
    ("keep_rows: {column: Channel, values: []}",
     ":6:34 tables.contacts.keep_rows.values: expected a list of at least one of the column's values, "
     "e.g. [Call, Meeting], got an empty list"),
    ("skip_rows: {column: Channel, values: [Google Ads, no]}",
     ":6:55 tables.contacts.skip_rows.values[1]: expected text, but YAML reads the value as the boolean false"),
    ("skip_rows: {column: Channel, values: [Google Ads, 5]}",
     ":6:55 tables.contacts.skip_rows.values[1]: expected text, but YAML reads the value as the number 5"),
    ("skip_rows: {column: Channel}", f":6:5 tables.contacts.skip_rows.values: missing; {SHAPE}"),
    ("keep_rows: [Google Ads]", f":6:5 tables.contacts.keep_rows: {SHAPE}, got a list"),
    ("keep_row: {column: Channel, values: [Google Ads]}",
     ":6:5 tables.contacts.keep_row: unknown key; expected columns, constants, delimiter, encoding, file, "
     "keep_rows, skip_rows, stage_columns, timestamp_format, timezone, values"),
], ids=["a column the export lacks", "an unknown key", "one value not in a list", "no value",
        "a value YAML reads as a boolean", "a value YAML reads as a number", "no values", "a list", "a misspelt key"])
def test_an_invalid_row_filter_is_refused_naming_the_mapping_s_line_and_column(tmp_path, written, expected):
    (tmp_path / "people.csv").write_text((CSV / "people.csv").read_text())
    path = tmp_path / "crm.yaml"
    path.write_text(f"{FILTERED}    {written}\n")
    with pytest.raises(InputError) as exc:
        import_csv(path, tmp_path / "out")
    assert str(exc.value).startswith(f"{path}{expected}")
    assert not (tmp_path / "out").exists()


def test_a_row_filter_indented_into_columns_is_named_as_a_key_of_the_table_not_as_a_value_to_quote(tmp_path):
    """`keep_rows:` one level too deep, under `columns:`, was refused with "quote it in the
    mapping": quoted, it would be read as a column name."""
    (tmp_path / "people.csv").write_text((CSV / "people.csv").read_text())
    path = tmp_path / "crm.yaml"
    path.write_text("tables:\n  contacts:\n    file: people.csv\n    delimiter: ';'\n    columns:\n"
                    "      contact_id: Person ID\n      created_at: Signed up\n"
                    "      keep_rows: {column: Channel, values: [Google Ads]}\n")
    with pytest.raises(InputError) as exc:
        import_csv(path, tmp_path / "out")
    assert str(exc.value) == (f"{path}:8:7 tables.contacts.columns.keep_rows: expected text, got a mapping; "
                              "keep_rows is a key of the table: write it beside 'columns:', not inside it")
    path.write_text(FILTERED.replace("created_at: Signed up}", "created_at: [Signed up]}"))
    with pytest.raises(InputError) as exc:
        import_csv(path, tmp_path / "out")
    assert str(exc.value) == f"{path}:5:38 tables.contacts.columns.created_at: expected text, got a list"


# --- Times ------------------------------------------------------------------------------------

def test_naive_iso_times_the_format_does_not_read_are_local_and_unreadable_ones_are_quarantined(tmp_path):
    """An ISO value beside a day-first format is still local time (the loader would take it for
    UTC); a value nothing reads stays as it is, and the loader quarantines it."""
    (tmp_path / "people.csv").write_text(
        "id,signed\nP1,05/01/2026 09:15\nP2,2026-01-06 09:15\nP3,2026-01-08\nP4,soon\n"
        "P5,2026-01-05 10:00 PST\nP6,2026-01-06T09:15:00-05:00\n")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "timezone: America/Mexico_City\n"
        "tables:\n"
        "  contacts: {file: people.csv, timestamp_format: '%d/%m/%Y %H:%M',"
        " columns: {contact_id: id, created_at: signed}}\n"
        "  lifecycle_events: {file: people.csv, timestamp_format: '%d/%m/%Y %H:%M',"
        " columns: {contact_id: id}, stage_columns: {lead: signed}}\n")
    out = tmp_path / "out"
    import_csv(mapping, out)
    assert [r[:2] for r in read(out, "contacts")] == [
        ("P1", "2026-01-05T15:15:00Z"), ("P2", "2026-01-06T15:15:00Z"),
        ("P3", "2026-01-08T06:00:00Z"), ("P4", "soon"), ("P5", "2026-01-05 10:00 PST"),
        ("P6", "2026-01-06T14:15:00Z")]
    report = load_data_dir(out, duckdb.connect(), STAGE_VALUES)
    assert report.by_reason == {"bad_timestamp:created_at": 2, "bad_timestamp:occurred_at": 2}


def test_hubspot_time_with_a_seven_digit_fraction_is_local_time(tmp_path):
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("Record ID,Create Date,Became a Lead Date\n"
                        "2,2026-02-01 10:00:00.1234567,2026-02-01 10:00:00.1234567\n")
    import_hubspot(contacts, tmp_path / "out", timezone="America/Mexico_City")
    assert read(tmp_path / "out", "contacts")[0][:2] == ("2", "2026-02-01T16:00:00Z")
    assert events(tmp_path / "out") == [("2", "lead", "2026-02-01T16:00:00Z")]


def test_export_values_are_cleaned_of_the_blanks_the_loader_removes(tmp_path):
    """Spreadsheets leave tabs and no-break spaces around values. The import cleans what the
    loader cleans: a flag 'Yes' with a tab after it was refused as no yes/no value."""
    deals = tmp_path / "deals.csv"
    deals.write_text("Record ID,Create Date,Close Date,Is Closed Won,Is Closed,Amount\n"
                     "\u00a010,2026-02-01 10:00,2026-02-10 10:00,\"Yes\t\",\"\u00a0yes\",100\n", encoding="utf-8")
    import_hubspot(HUBSPOT / "contacts_labels.csv", tmp_path / "out", deals=deals, timezone="UTC")
    assert [(r[0], r[3], r[4]) for r in read(tmp_path / "out", "deals")] == [("10", "2026-02-10T10:00:00Z", "won")]


MULTI_CURRENCY_DEALS = ("Record ID,Create Date,Close Date,Deal Stage,{amounts}Currency,Associated Contact IDs\n"
                        "9001,2026-01-20 12:00,2026-03-02 18:45,closedwon,{a},usd,101\n"
                        "9002,2026-01-21 12:00,2026-03-03 18:45,closedwon,{b}, EUR ,102\n"
                        "9003,2026-01-22 12:00,2026-03-04 18:45,closedwon,{c},MXN,103\n"
                        "9004,2026-01-23 12:00,2026-03-05 18:45,closedwon,{d},USD,101\n")


def test_hubspot_deals_of_a_multi_currency_portal_are_read_in_the_company_currency(tmp_path):
    """A multi-currency portal exports `Amount` in each deal's own currency, and `Amount in
    company currency` converted: that one is read (the deal's currency is not its currency)."""
    deals = tmp_path / "deals.csv"
    deals.write_text(MULTI_CURRENCY_DEALS.format(amounts="Amount,Amount in company currency,", a="100,100",
                                                 b="100,108.50", c="1000,55.20", d="7,7"))
    import_hubspot(HUBSPOT / "contacts_labels.csv", tmp_path / "out", deals=deals, timezone="UTC")
    assert [(r[0], r[5], r[6]) for r in read(tmp_path / "out", "deals")] == [
        ("9001", "100", None), ("9002", "108.50", None), ("9003", "55.20", None), ("9004", "7", None)]


def test_hubspot_won_deals_without_a_company_currency_amount_are_said_to_be_quarantined(tmp_path):
    """A won deal whose `Amount in company currency` is blank was written without an amount, and
    quarantined, though the export showed its `Amount`: in the deal's own currency, which the
    import cannot convert, so it stays unused, and the import says how many such deals there are."""
    deals = tmp_path / "deals.csv"
    deals.write_text(MULTI_CURRENCY_DEALS.format(amounts="Amount,Amount in company currency,", a="100,100",
                                                 b="100,", c="1000, ", d=",")
                     + "9005,2026-01-24 12:00,2026-03-06 18:45,closedlost,50,,USD,101\n")
    imported = import_hubspot(HUBSPOT / "contacts_labels.csv", tmp_path / "out", deals=deals, timezone="UTC")
    assert [(r[0], r[5]) for r in read(tmp_path / "out", "deals")] == [
        ("9001", "100"), ("9002", None), ("9003", None), ("9004", None), ("9005", "0")]
    assert imported.notes == [
        "note: deals.csv: 2 won deals with an 'Amount' but no 'Amount in company currency' written without "
        "an amount (quarantined as missing_required:amount); 'Amount' is in the deal's own currency and was "
        "not used: fix the deals in HubSpot and export again",
        "note: deals.csv: 1 open or lost deal without an amount written with amount 0 (only won deals' "
        "amounts count, toward revenue)"]
    report = load_data_dir(tmp_path / "out", duckdb.connect(), STAGE_VALUES)
    assert report.by_reason.get("missing_required:amount") == 3  # and 9004, which has no amount at all


def test_hubspot_deals_in_several_currencies_with_only_their_own_amounts_are_refused(tmp_path):
    """Summed, 100 USD, 100 EUR and 1000 MXN made 1200 of the agreement's currency (the run
    only warned). The first deal in a second currency is named, with every currency seen."""
    deals = tmp_path / "deals.csv"
    deals.write_text(MULTI_CURRENCY_DEALS.format(amounts="Amount,", a="100", b="100", c="1000", d="7"))
    with pytest.raises(InputError) as exc:
        import_hubspot(HUBSPOT / "contacts_labels.csv", tmp_path / "out", deals=deals, timezone="UTC")
    assert str(exc.value) == (
        f"{deals}:3 Currency: 'EUR' is another currency than the first deals' USD: the deals are in 3 currencies "
        "(USD 2, EUR 1, MXN 1), and 'Amount' is each deal's amount in its own currency, which summed would mix "
        "them; expected 'Amount in company currency' (amount_in_home_currency) in the export, or deals in one "
        "currency")
    assert not (tmp_path / "out").exists()
    # One currency (in any case), or none given: read as before, each deal with its currency.
    deals.write_text(MULTI_CURRENCY_DEALS.format(amounts="Amount,", a="100", b="100", c="1000", d="7")
                     .replace(" EUR ", "Usd").replace("MXN", ""))
    import_hubspot(HUBSPOT / "contacts_labels.csv", tmp_path / "out", deals=deals, timezone="UTC")
    assert [(r[5], r[6]) for r in read(tmp_path / "out", "deals")] == [
        ("100", "usd"), ("100", "Usd"), ("1000", None), ("7", "USD")]


def test_a_mapping_finds_columns_and_values_an_export_writes_decomposed(tmp_path):
    """An export from a tool on macOS writes 'ó' as 'o' + a combining accent. Its column
    'Código' and value 'Búsqueda' read exactly as the mapping writes them: the column was 'not
    found' in a file whose list of columns showed it, and the value was left unmapped."""
    import unicodedata

    export = "Código;Alta;Canal\nP-1;2026-01-05T10:00:00Z;Búsqueda\n"
    (tmp_path / "people.csv").write_text(unicodedata.normalize("NFD", export), encoding="utf-8-sig")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "tables:\n"
        "  contacts: {file: people.csv, delimiter: ';', columns: {contact_id: Código, created_at: Alta,"
        " source: canal}, values: {source: {Búsqueda: paid_search}}}\n"
        "  lifecycle_events: {file: people.csv, delimiter: ';', columns: {contact_id: Código},"
        " stage_columns: {lead: Alta}}\n", encoding="utf-8")
    import_csv(mapping, tmp_path / "out")
    assert read(tmp_path / "out", "contacts") == [("P-1", "2026-01-05T10:00:00Z", "paid_search", None, None, None)]


def test_a_mapped_column_not_found_lists_the_export_s_names_with_invisible_characters_shown(tmp_path):
    (tmp_path / "people.csv").write_text("\u200bCanal,Id\nweb,P-1\n", encoding="utf-8")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("tables:\n  contacts: {file: people.csv, columns: {contact_id: Id, source: Canal}}\n")
    with pytest.raises(InputError) as exc:
        import_csv(mapping, tmp_path / "out")
    assert str(exc.value).endswith(r"column 'Canal' (mapped to source) not found in people.csv; it has: '\u200bCanal', Id")


DAY_FIRST_LEADS = ("Id,CreatedDate,Status,IsConverted,ConvertedDate,LeadSource,Title\n"
                   "00Q1,05/01/2026 09:15,Open,0,,Web,CEO\n"
                   "00Q2,13/01/2026 09:15,Open,1,02/03/2026,Web,CEO\n")


def test_a_day_first_export_read_with_the_default_us_formats_is_refused(tmp_path):
    """05/01/2026 would be read as 1 May; 13/01/2026 shows the export is day-first."""
    leads = tmp_path / "Lead.csv"
    leads.write_text(DAY_FIRST_LEADS)
    with pytest.raises(InputError) as exc:
        import_salesforce(leads, tmp_path / "out")
    assert str(exc.value) == (
        f"{leads}:3 CreatedDate: '13/01/2026 09:15' is a day-first date (13 is no month), but dates "
        "are read month-first (m/d/Y) unless a format is given; pass --timestamp-format '%d/%m/%Y %H:%M'")
    assert not (tmp_path / "out").exists()


def test_a_month_first_date_of_december_is_read_not_refused_as_day_first(tmp_path):
    """12 is a month: 12/05/2026 is December 5 in the default US formats."""
    leads = tmp_path / "Lead.csv"
    leads.write_text("Id,CreatedDate,Status,IsConverted,ConvertedDate\n"
                     "00Q1,12/05/2026 09:15,Open,false,\n"
                     "00Q2,11/30/2026 09:15,Open,false,\n")
    import_salesforce(leads, tmp_path / "out", timezone="UTC")
    assert [r[:2] for r in read(tmp_path / "out", "contacts")] == [("00Q1", "2026-12-05T09:15:00Z"),
                                                                  ("00Q2", "2026-11-30T09:15:00Z")]


def test_us_report_times_with_the_icu_comma_or_seconds_are_read_without_a_format(tmp_path):
    """Salesforce's ICU locale formats write en_US times as '1/28/2026, 4:30 PM' (a comma after
    the date, Salesforce Help: Differences Between JDK and ICU Locale Formats); some exports
    add seconds to the 12-hour clock. Both were kept as they were and quarantined."""
    leads = tmp_path / "Lead.csv"
    leads.write_bytes(b'\xef\xbb\xbf"Id","CreatedDate","Status","IsConverted","ConvertedDate"\r\n'
                      b'"00Q1","1/28/2026, 4:30 PM","Open - Not Contacted","0",""\r\n'
                      b'"00Q2","1/28/2026 4:30:15 PM","Open - Not Contacted","0",""\r\n'
                      b'"00Q3","1/28/2026, 12:05:00 AM","Open - Not Contacted","1","1/29/2026"\r\n'
                      b'"00Q4","1/28/2026, 16:30","Open - Not Contacted","0",""\r\n')
    import_salesforce(leads, tmp_path / "out", timezone="America/New_York")
    assert events(tmp_path / "out") == [
        ("00Q1", "lead", "2026-01-28T21:30:00Z"),
        ("00Q2", "lead", "2026-01-28T21:30:15Z"),
        ("00Q3", "lead", "2026-01-28T05:05:00Z"),
        ("00Q3", "sql", "2026-01-29T05:00:00Z"),
        ("00Q4", "lead", "2026-01-28T21:30:00Z"),
    ]


def test_a_day_first_icu_export_is_told_the_format_with_its_comma(tmp_path):
    """en_GB with ICU formats: '28/01/2026, 16:30'. The advised format must read it."""
    leads = tmp_path / "Lead.csv"
    leads.write_text("Id,CreatedDate,Status,IsConverted,ConvertedDate\n"
                     '00Q1,"28/01/2026, 16:30",New,0,\n')
    with pytest.raises(InputError) as exc:
        import_salesforce(leads, tmp_path / "out")
    assert str(exc.value).endswith("pass --timestamp-format '%d/%m/%Y, %H:%M'")
    import_salesforce(leads, tmp_path / "out", timezone="Europe/London", timestamp_format="%d/%m/%Y, %H:%M")
    assert events(tmp_path / "out") == [("00Q1", "lead", "2026-01-28T16:30:00Z")]


def test_timestamp_format_reads_a_day_first_export_and_its_date_part_reads_dates(tmp_path):
    leads = tmp_path / "Lead.csv"
    leads.write_text(DAY_FIRST_LEADS)
    import_salesforce(leads, tmp_path, timezone="America/Mexico_City",
                      timestamp_format="%d/%m/%Y %H:%M")
    assert events(tmp_path) == [
        ("00Q1", "lead", "2026-01-05T15:15:00Z"),
        ("00Q2", "lead", "2026-01-13T15:15:00Z"),
        ("00Q2", "sql", "2026-03-02T06:00:00Z"),  # ConvertedDate 02/03/2026: 2 March
    ]


def test_a_day_first_mapping_column_without_timestamp_format_names_the_mapping_field(tmp_path):
    (tmp_path / "people.csv").write_text("id,signed\nP1,1/5/2026 9:15 AM\nP2,25/12/2026\n")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("tables:\n  contacts: {file: people.csv, columns: {contact_id: id, created_at: signed}}\n")
    with pytest.raises(InputError) as exc:
        import_csv(mapping, tmp_path / "out")
    assert str(exc.value).startswith(f"{tmp_path / 'people.csv'}:3 signed: '25/12/2026' is a day-first date")
    assert str(exc.value).endswith("set tables.contacts.timestamp_format: '%d/%m/%Y' in the mapping")


def test_the_date_part_of_timestamp_format_reads_web_sessions_dates(tmp_path):
    (tmp_path / "web.csv").write_text("day;channel;visits\n05/01/2026;organic;1200\n2026-01-06;paid;3\n")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "tables:\n"
        "  web_sessions: {file: web.csv, delimiter: ';', timestamp_format: '%d/%m/%Y %H:%M',"
        " columns: {date: day, channel: channel, sessions: visits}}\n")
    import_csv(mapping, tmp_path / "out")
    assert read(tmp_path / "out", "web_sessions") == [("2026-01-05", "organic", "1200"),
                                                      ("2026-01-06", "paid", "3")]


def test_date_only_values_read_without_a_time_zone_are_named_in_a_warning(tmp_path):
    """Data Loader times end in Z, so --timezone looks needless; CloseDate and ConvertedDate are
    calendar dates all the same, and without the zone they are UTC days."""
    written = import_salesforce(SALESFORCE / "Lead.csv", tmp_path / "utc",
                                opportunities=SALESFORCE / "Opportunity.csv")
    assert written.notes == [
        "warning: Lead.csv ConvertedDate: 1 calendar date read as midnight UTC; pass --timezone "
        "<the agreement's zone> to place it in its days",
        # The open opportunity's CloseDate, a forecast, is read as no time.
        "warning: Opportunity.csv CloseDate: 1 calendar date read as midnight UTC; pass --timezone "
        "<the agreement's zone> to place it in its days"]
    assert import_salesforce(SALESFORCE / "Lead.csv", tmp_path / "given", timezone="UTC",
                             opportunities=SALESFORCE / "Opportunity.csv").notes == []


def test_the_warnings_on_an_export_s_times_count_only_the_values_the_import_reads(tmp_path):
    """Every timed Event has an ActivityDate too: each was counted as a calendar date read as
    midnight UTC, though only an all-day event's is read. So were an open deal's close date (a
    forecast), a task's CreatedDate beside its CompletedDateTime, a ConvertedDate beside the
    history's leadConverted row, and the time of a history row of another field."""
    d = tmp_path
    (d / "Lead.csv").write_text("Id,CreatedDate,IsConverted,ConvertedDate,ConvertedOpportunityId\n"
                                "00Q1,2026-03-02T15:00:00Z,true,2026-03-10,0061\n"
                                "00Q2,2026-03-03T15:00:00Z,true,2026-03-12,0062\n")
    (d / "LeadHistory.csv").write_text("LeadId,CreatedDate,Field,NewValue\n"
                                       "00Q1,2026-03-02 16:00,Owner,Jane\n"  # read for nothing
                                       "00Q1,2026-03-03 10:00,Status,MQL\n"
                                       "00Q1,2026-03-10T18:00:00Z,leadConverted,\n")  # 00Q1's conversion
    (d / "Opportunity.csv").write_text("Id,CreatedDate,CloseDate,IsClosed,IsWon,Amount\n"
                                       "0061,2026-03-10T18:00:00Z,2026-03-25,true,true,100\n"
                                       "0062,2026-03-12T18:00:00Z,2026-06-30,false,false,100\n")
    (d / "Task.csv").write_text("Id,WhoId,Status,CreatedDate,CompletedDateTime\n"
                                "00T1,00Q1,Completed,2026-03-03 09:00,2026-03-03T17:00:00Z\n"
                                "00T2,00Q2,Completed,2026-03-04 09:00,\n")
    (d / "Event.csv").write_text("Id,WhoId,ActivityDateTime,StartDateTime,ActivityDate,IsAllDayEvent\n"
                                 "00U1,00Q1,2026-03-05T16:30:00Z,2026-03-05T16:30:00Z,2026-03-05,false\n"
                                 "00U2,00Q2,2026-03-06T16:30:00Z,2026-03-06T16:30:00Z,2026-03-06,false\n"
                                 "00U3,00Q2,,2026-03-20T00:00:00Z,2026-03-20,true\n")
    written = import_salesforce(d / "Lead.csv", d / "out", lead_history=d / "LeadHistory.csv",
                                opportunities=d / "Opportunity.csv", tasks=d / "Task.csv", events=d / "Event.csv")
    zone = "pass --timezone <the agreement's zone> to place it in its days"
    local = ("if the export writes local times (a CRM's UI exports write the user's zone), pass --timezone "
             "<the export's zone>")
    assert written.notes == [
        f"warning: Lead.csv ConvertedDate: 1 calendar date read as midnight UTC; {zone}",
        f"warning: LeadHistory.csv CreatedDate: 1 time without an offset read as UTC; {local}",
        f"warning: Opportunity.csv CloseDate: 1 calendar date read as midnight UTC; {zone}",
        f"warning: Task.csv CreatedDate: 1 time without an offset read as UTC; {local}",
        f"warning: Event.csv ActivityDate: 1 calendar date read as midnight UTC; {zone}"]
    assert [r[2] for r in read(d / "out", "activities")] == [
        "2026-03-03T17:00:00Z", "2026-03-04T09:00:00Z", "2026-03-05T16:30:00Z", "2026-03-06T16:30:00Z",
        "2026-03-20T00:00:00Z"]

    # HubSpot: an open deal's close date, the date it is expected to close, is read as no time.
    deals = d / "deals.csv"
    deals.write_text("Record ID,Create Date,Close Date,Deal Stage,Amount\n"
                     "9001,2026-01-20T12:00:00Z,2026-03-02,closedwon,100\n"
                     "9002,2026-01-20T12:00:00Z,2026-04-30 00:00,appointmentscheduled,100\n")
    assert [n for n in import_hubspot(HUBSPOT / "contacts_labels.csv", d / "hs", deals=deals).notes
            if "Close Date" in n] == [f"warning: deals.csv Close Date: 1 calendar date read as midnight UTC; {zone}"]


def test_a_mapping_table_s_own_time_zone_places_its_times_and_dates_there(tmp_path):
    # docs/data.md: a table's `timezone` overrides the top-level one (default UTC); given, the
    # date-only values are in its days and need no warning.
    (tmp_path / "people.csv").write_text("id,created\nP-1,2026-01-05 09:15\nP-2,2026-01-06\n")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("tables:\n  contacts: {file: people.csv, timezone: America/Mexico_City, "
                       "columns: {contact_id: id, created_at: created}}\n")
    written = import_csv(mapping, tmp_path / "out")
    assert [r[:2] for r in read(tmp_path / "out", "contacts")] == [("P-1", "2026-01-05T15:15:00Z"),
                                                                  ("P-2", "2026-01-06T06:00:00Z")]
    assert written.notes == []


def test_hubspot_and_mapping_date_only_values_without_a_time_zone_are_named_too(tmp_path):
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("Record ID,Create Date,Became a Lead Date\n1,2026-01-05 10:00,2026-01-05\n")
    assert import_hubspot(contacts, tmp_path / "hs").notes == [
        "warning: contacts.csv Create Date: 1 time without an offset read as UTC; if the export writes local "
        "times (a CRM's UI exports write the user's zone), pass --timezone <the export's zone>",
        "warning: contacts.csv Became a Lead Date: 1 calendar date read as midnight UTC; pass "
        "--timezone <the agreement's zone> to place it in its days"]
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("tables:\n  contacts: {file: contacts.csv, "
                       "columns: {contact_id: Record ID, created_at: Became a Lead Date}}\n")
    assert import_csv(mapping, tmp_path / "csv").notes == [
        "warning: contacts.csv Became a Lead Date: 1 calendar date read as midnight UTC; set "
        "timezone: <the agreement's zone> in the mapping to place it in its days"]
    mapping.write_text("timezone: UTC\n" + mapping.read_text())
    assert import_csv(mapping, tmp_path / "csv").notes == []


def test_times_without_an_offset_read_as_utc_because_no_zone_was_given_are_named(tmp_path):
    # A HubSpot UI export writes the user's local times: imported without --timezone they were
    # read as UTC without a word (an MQL at 00:30 on 1 February in Mexico City became 18:30 on
    # 31 January there). Times with an offset and epoch milliseconds are instants: nothing to say.
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("Record ID,Create Date,Became a Lead Date,Became a Marketing Qualified Lead Date\n"
                        "1,2026-01-05T10:00:00Z,1767607200000,2026-01-31 20:00\n"
                        "2,2026-01-06T10:00:00-06:00,,01/31/2026 8:30 PM\n")
    assert import_hubspot(contacts, tmp_path / "hs").notes == [
        "warning: contacts.csv Became a Marketing Qualified Lead Date: 2 times without an offset read as UTC; "
        "if the export writes local times (a CRM's UI exports write the user's zone), pass --timezone "
        "<the export's zone>"]
    assert ("1", "mql", "2026-01-31T20:00:00Z") in events(tmp_path / "hs")
    assert import_hubspot(contacts, tmp_path / "mx", timezone="America/Mexico_City").notes == []
    assert ("1", "mql", "2026-02-01T02:00:00Z") in events(tmp_path / "mx")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("tables:\n  contacts: {file: contacts.csv, "
                       "columns: {contact_id: Record ID, created_at: Became a Marketing Qualified Lead Date}}\n")
    assert import_csv(mapping, tmp_path / "csv").notes == [
        "warning: contacts.csv Became a Marketing Qualified Lead Date: 2 times without an offset read as UTC; "
        "if the export writes local times (a CRM's UI exports write the user's zone), set timezone: "
        "<the export's zone> in the mapping"]


def test_times_a_format_reads_with_their_offset_are_instants_not_named(tmp_path):
    # --timestamp-format with %z, no --timezone: each time carries its offset, none is read as UTC.
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("Record ID,Create Date,Became a Lead Date\n"
                        "1,2026-01-05T10:00:00+01:00,2026-01-05T10:00:00+01:00\n")
    assert import_hubspot(contacts, tmp_path / "hs", timestamp_format="%Y-%m-%dT%H:%M:%S%z").notes == []
    assert events(tmp_path / "hs") == [("1", "lead", "2026-01-05T09:00:00Z")]

# --- Yes/no fields ----------------------------------------------------------------------------


def test_hubspot_deal_flags_read_yes_no_and_1_0_in_any_case(tmp_path):
    deals = tmp_path / "deals.csv"
    deals.write_text("Record ID,Create Date,Close Date,Is Closed Won,Is Closed,Amount\n"
                     "10,2026-02-01 10:00,2026-02-10 10:00,Yes,Yes,100\n"
                     "11,2026-02-01 10:00,2026-02-11 10:00,NO,yes,200\n"
                     "12,2026-02-01 10:00,2026-02-12 10:00,0,0,300\n"
                     "13,2026-02-01 10:00,2026-02-13 10:00,1,1,400\n")
    import_hubspot(HUBSPOT / "contacts_labels.csv", tmp_path / "out", deals=deals, timezone="UTC")
    assert [(r[0], r[3], r[4]) for r in read(tmp_path / "out", "deals")] == [
        ("10", "2026-02-10T10:00:00Z", "won"), ("11", "2026-02-11T10:00:00Z", "lost"),
        ("12", None, "open"), ("13", "2026-02-13T10:00:00Z", "won")]


def test_a_won_flag_without_the_closed_flag_still_makes_the_deal_won(tmp_path):
    """An export with IsWon (Is Closed Won) but not IsClosed (Is Closed): the flag was ignored,
    and a won deal in a stage not named 'Closed Won' (a custom or second pipeline's stage) was
    open, without its close date, revenue or customer event."""
    leads, opps = tmp_path / "Lead.csv", tmp_path / "Opportunity.csv"
    leads.write_text("Id,CreatedDate,Status,IsConverted,ConvertedDate,ConvertedOpportunityId\n"
                     "00Q1,2026-01-05T15:15:00.000Z,Closed - Converted,true,2026-01-20,0061\n")
    opps.write_text("Id,CreatedDate,CloseDate,StageName,IsWon,Amount,CurrencyIsoCode\n"
                    "0061,2026-01-20T18:05:00.000Z,2026-03-02,Closed - Signed,true,100,USD\n"
                    "0062,2026-01-21T18:05:00.000Z,2026-03-03,Closed Lost,false,50,USD\n"
                    "0063,2026-01-22T18:05:00.000Z,2026-06-30,Negotiation,false,70,USD\n")
    import_salesforce(leads, tmp_path / "sf", opportunities=opps, timezone="UTC")
    assert [(r[0], r[3], r[4]) for r in read(tmp_path / "sf", "deals")] == [
        ("0061", "2026-03-02T00:00:00Z", "won"), ("0062", "2026-03-03T00:00:00Z", "lost"),
        ("0063", None, "open")]
    assert ("00Q1", "customer", "2026-03-02T00:00:00Z") in events(tmp_path / "sf")
    contacts, deals = tmp_path / "contacts.csv", tmp_path / "deals.csv"
    contacts.write_text("Record ID,Create Date,Became a Lead Date\n1,2026-01-05 10:00,2026-01-05 10:00\n")
    deals.write_text("Record ID,Deal Stage,Amount,Close Date,Create Date,Is Closed Won,Associated Contact IDs\n"
                     "9,Contract Signed (Enterprise),100,2026-03-02 10:00,2026-01-02 10:00,Yes,1\n"
                     "10,Closed Lost,50,2026-03-03 10:00,2026-01-02 10:00,No,1\n")
    import_hubspot(contacts, tmp_path / "hs", deals=deals, timezone="UTC")
    assert [(r[0], r[3], r[4]) for r in read(tmp_path / "hs", "deals")] == [
        ("9", "2026-03-02T10:00:00Z", "won"), ("10", "2026-03-03T10:00:00Z", "lost")]


def test_deals_read_open_by_their_stage_alone_are_named_with_their_stages(tmp_path):
    """A default deal view exports Deal Stage without Is Closed Won: a won stage of a second
    pipeline ('Contract Signed') can only be read as open, and its revenue was lost without a
    word. The note names the stages read as open, so the user sees it and exports the flags."""
    contacts, deals = tmp_path / "contacts.csv", tmp_path / "deals.csv"
    contacts.write_text("Record ID,Create Date,Became a Lead Date\n1,2026-01-05 10:00,2026-01-05 10:00\n")
    deals.write_text("Record ID,Deal Name,Pipeline,Deal Stage,Amount,Close Date,Create Date,Associated Contact IDs\n"
                     "9,Acme,Enterprise,Contract Signed,100,2026-03-02 10:00,2026-01-02 10:00,1\n"
                     "10,Beta,Sales Pipeline,Closed Won,50,2026-03-03 10:00,2026-01-02 10:00,1\n"
                     "11,Gamma,Enterprise,Contract Signed,70,2026-03-04 10:00,2026-01-02 10:00,1\n"
                     "12,Delta,Sales Pipeline,Appointment Scheduled,20,2026-06-30 10:00,2026-01-02 10:00,1\n")
    written = import_hubspot(contacts, tmp_path / "hs", deals=deals, timezone="UTC")
    assert [r[4] for r in read(tmp_path / "hs", "deals")] == ["open", "won", "open", "open"]
    assert ("note: deals.csv: 3 deals written open, as their stage is no closed-won or closed-lost one "
            "('Contract Signed' 2, 'Appointment Scheduled' 1); without 'Is Closed Won' and 'Is Closed' "
            "a won stage of another pipeline reads as open: export 'Is Closed Won' and 'Is Closed' to read it"
            ) in written.notes
    flagged = tmp_path / "flagged.csv"
    flagged.write_text("Record ID,Deal Stage,Amount,Close Date,Create Date,Is Closed Won,Is Closed\n"
                       "9,Contract Signed,100,2026-03-02 10:00,2026-01-02 10:00,Yes,Yes\n")
    assert not [n for n in import_hubspot(contacts, tmp_path / "flagged", deals=flagged, timezone="UTC").notes
                if "written open" in n]


def test_open_and_lost_deals_without_an_amount_get_0_and_a_won_one_is_quarantined(tmp_path):
    """CRMs leave early deals' amounts empty: each was quarantined (SPEC §2 requires an
    amount) and counted against the quarantine rate, though only won amounts count."""
    deals = tmp_path / "deals.csv"
    deals.write_text("Record ID,Create Date,Close Date,Is Closed Won,Is Closed,Amount\n"
                     "10,2026-02-01 10:00,2026-02-10 10:00,true,true,\n"
                     "11,2026-02-01 10:00,2026-02-11 10:00,false,true,  \n"
                     "12,2026-02-01 10:00,2026-02-12 10:00,false,false,\n"
                     "13,2026-02-01 10:00,2026-02-13 10:00,false,false,70\n")
    hubspot = import_hubspot(HUBSPOT / "contacts_labels.csv", tmp_path / "hs", deals=deals, timezone="UTC")
    assert [(r[0], r[4], r[5]) for r in read(tmp_path / "hs", "deals")] == [
        ("10", "won", None), ("11", "lost", "0"), ("12", "open", "0"), ("13", "open", "70")]
    assert ("note: deals.csv: 2 open or lost deals without an amount written with amount 0 "
            "(only won deals' amounts count, toward revenue)") in hubspot.notes
    report = load_data_dir(tmp_path / "hs", duckdb.connect(), STAGE_VALUES)
    assert report.by_reason["missing_required:amount"] == 1  # the won deal, 10

    leads, opps = tmp_path / "Lead.csv", tmp_path / "Opportunity.csv"
    leads.write_text("Id,CreatedDate,Status,IsConverted,ConvertedDate,ConvertedOpportunityId\n"
                     "00Q1,2026-01-05T15:15:00.000Z,Closed - Converted,true,2026-01-20,0061\n")
    opps.write_text("Id,CreatedDate,CloseDate,StageName,IsClosed,IsWon,Amount\n"
                    "0061,2026-01-20T18:05:00.000Z,2026-03-02,Closed Won,true,true,\n"
                    "0062,2026-01-21T18:05:00.000Z,2026-03-03,Closed Lost,true,false,\n"
                    "0063,2026-01-22T18:05:00.000Z,2026-06-30,Prospecting,false,false,\n")
    salesforce = import_salesforce(leads, tmp_path / "sf", opportunities=opps, timezone="UTC")
    assert [(r[0], r[4], r[5]) for r in read(tmp_path / "sf", "deals")] == [
        ("0061", "won", None), ("0062", "lost", "0"), ("0063", "open", "0")]
    assert any(n.startswith("note: Opportunity.csv: 2 open or lost deals without an amount") for n in salesforce.notes)


def test_a_flag_that_is_no_yes_no_value_names_file_line_column_and_value(tmp_path):
    deals = tmp_path / "deals.csv"
    deals.write_text("Record ID,Create Date,Close Date,Is Closed Won,Is Closed,Amount\n"
                     "10,2026-02-01 10:00,2026-02-10 10:00,true,true,100\n"
                     "11,2026-02-01 10:00,2026-02-11 10:00,false,Closed,200\n")
    with pytest.raises(InputError) as exc:
        import_hubspot(HUBSPOT / "contacts_labels.csv", tmp_path / "out", deals=deals)
    assert str(exc.value) == (f"{deals}:3 Is Closed: 'Closed' is not a yes/no value; expected "
                              "true/false, yes/no or 1/0 (any case)")
    leads = tmp_path / "Lead.csv"
    leads.write_text("Id,CreatedDate,IsConverted,ConvertedDate\n00Q1,2026-01-01T00:00:00Z,Y,2026-01-02\n")
    with pytest.raises(InputError, match=r"Lead.csv:2 IsConverted: 'Y' is not a yes/no value"):
        import_salesforce(leads, tmp_path / "out")


# --- Salesforce: leads merged into one Contact or Opportunity ---------------------------------

MERGED_LEADS = (
    "Id,CreatedDate,Status,IsConverted,ConvertedDate,ConvertedContactId,ConvertedOpportunityId\n"
    "00QB,2026-01-10T15:00:00.000Z,Closed - Converted,true,{b},003X,006X\n"
    "00QA,2026-01-05T15:00:00.000Z,Closed - Converted,true,{a},003X,006X\n"
    "00QC,2026-01-11T15:00:00.000Z,Open - Not Contacted,false,,,\n")


@pytest.mark.parametrize("a, b, first", [
    ("2026-01-21", "2026-01-20", "00QB"),  # converted first
    ("2026-01-20", "2026-01-20", "00QA"),  # the same day: the smallest Id
])
def test_salesforce_leads_converted_into_one_contact_and_opportunity_give_one_deal_and_touch(
        tmp_path, a, b, first):
    leads, opps, tasks = tmp_path / "Lead.csv", tmp_path / "Opportunity.csv", tmp_path / "Task.csv"
    leads.write_text(MERGED_LEADS.format(a=a, b=b))
    opps.write_text("Id,CreatedDate,CloseDate,IsClosed,IsWon,Amount\n"
                    "006X,2026-01-21T18:00:00.000Z,2026-02-10,true,true,15000.00\n")
    tasks.write_text("Id,WhoId,Type,CreatedDate\n00T1,003X,Call,2026-01-22T15:00:00.000Z\n"
                     "00T2,00QC,Call,2026-01-12T15:00:00.000Z\n")
    out = tmp_path / "out"
    written = import_salesforce(leads, out, opportunities=opps, tasks=tasks, timezone="UTC")
    assert read(out, "deals") == [
        ("006X", first, "2026-01-21T18:00:00Z", "2026-02-10T00:00:00Z", "won", "15000.00", None)]
    assert read(out, "activities") == [("00T1", first, "2026-01-22T15:00:00Z", "sales", "call"),
                                       ("00T2", "00QC", "2026-01-12T15:00:00Z", "sales", "call")]
    # Each merged lead entered the opportunity and customer stages once.
    assert [e for e in events(out) if e[1] in ("opportunity", "customer")] == [
        ("00QA", "customer", "2026-02-10T00:00:00Z"), ("00QA", "opportunity", "2026-01-21T18:00:00Z"),
        ("00QB", "customer", "2026-02-10T00:00:00Z"), ("00QB", "opportunity", "2026-01-21T18:00:00Z")]
    assert written.rows["lifecycle_events"] == 9
    report = load_data_dir(out, duckdb.connect(), STAGE_VALUES)
    assert report.quarantined_rows == 0 and report.duplicate_rows == 0


def test_of_leads_merged_into_one_opportunity_the_one_converted_on_a_known_date_gets_the_deal(tmp_path):
    """00QA names the opportunity but has no ConvertedDate (no conversion instant); 00QB was
    converted into it on 20 January. The deal is 00QB's, though 00QA has the smaller Id: a lead
    converted at a known time comes before one that is not."""
    leads, opps = tmp_path / "Lead.csv", tmp_path / "Opportunity.csv"
    leads.write_text(MERGED_LEADS.format(a="", b="2026-01-20"))
    opps.write_text("Id,CreatedDate,CloseDate,IsClosed,IsWon,Amount\n"
                    "006X,2026-01-21T18:00:00.000Z,2026-02-10,true,true,15000.00\n")
    out = tmp_path / "out"
    import_salesforce(leads, out, opportunities=opps, timezone="UTC")
    assert [(deal[0], deal[1]) for deal in read(out, "deals")] == [("006X", "00QB")]

def test_salesforce_15_character_report_ids_match_the_18_character_ids_of_data_loader(tmp_path):
    """A lead report writes 15-character Ids, Data Loader 18 (the same 15 and a 3-character
    suffix): compared as exported, the won deal had no lead and gave no opportunity or
    customer event, and every touch and status change named no lead. 001A0000006Vm9r is
    001A0000006Vm9rIAC, the suffix encoding which of the 15 characters are upper case."""
    leads, history = tmp_path / "Lead.csv", tmp_path / "LeadHistory.csv"
    opps, tasks = tmp_path / "Opportunity.csv", tmp_path / "Task.csv"
    leads.write_text(
        '"Lead ID","Create Date","Converted","Converted Date","Converted Contact ID",'
        '"Converted Opportunity ID"\n'
        '"00Q5g00000AbCdE","1/5/2026 9:15 AM","1","1/20/2026","0035g00000QrStu","0065g00000XyZ12"\n'
        '"00Q5g00000AbCdF","2/10/2026 4:30 PM","0","","",""\n')
    history.write_text("Id,LeadId,CreatedDate,Field,OldValue,NewValue\n"
                       "0175g00000Hh001AAA,00Q5g00000AbCdEEAV,2026-01-08T22:30:00.000Z,Status,Open,MQL\n")
    opps.write_text("Id,CreatedDate,CloseDate,IsClosed,IsWon,Amount\n"
                    "0065g00000XyZ12AAF,2026-01-20T18:05:00.000Z,2026-03-02,true,true,15000.00\n")
    tasks.write_text("Id,WhoId,Type,Status,CreatedDate\n"
                     "00T5g00000Tt001AAA,00Q5g00000AbCdEEAV,Call,Completed,2026-01-08T23:10:00.000Z\n"
                     "00T5g00000Tt002AAA,0035g00000QrStuAAF,Email,Completed,2026-01-22T15:00:00.000Z\n"
                     "00T5g00000Tt003AAA,00Q5g00000AbCdFEAV,Call,Completed,2026-02-12T20:00:00.000Z\n")
    out = tmp_path / "out"
    import_salesforce(leads, out, lead_history=history, opportunities=opps, tasks=tasks, timezone="UTC")
    a, b = "00Q5g00000AbCdEEAV", "00Q5g00000AbCdFEAV"
    assert [r[0] for r in read(out, "contacts")] == [a, b]
    assert read(out, "deals") == [
        ("0065g00000XyZ12AAF", a, "2026-01-20T18:05:00Z", "2026-03-02T00:00:00Z", "won", "15000.00", None)]
    assert events(out) == [
        (a, "customer", "2026-03-02T00:00:00Z"), (a, "lead", "2026-01-05T09:15:00Z"),
        (a, "mql", "2026-01-08T22:30:00Z"), (a, "opportunity", "2026-01-20T18:05:00Z"),
        (a, "sql", "2026-01-20T00:00:00Z"), (b, "lead", "2026-02-10T16:30:00Z")]
    assert [r[:2] for r in read(out, "activities")] == [
        ("00T5g00000Tt001AAA", a), ("00T5g00000Tt002AAA", a), ("00T5g00000Tt003AAA", b)]
    report = load_data_dir(out, duckdb.connect(), STAGE_VALUES)
    assert report.quarantined_rows == 0 and report.duplicate_rows == 0


def test_a_salesforce_15_character_id_is_given_its_suffix_and_other_ids_are_kept():
    from pipelines.data.importers.salesforce import _ID18
    con = duckdb.connect()
    con.execute(_ID18)
    assert con.execute("select sf_id18('001A0000006Vm9r'), sf_id18('001A0000006Vm9rIAC'), "
                       "sf_id18('00QA'), sf_id18('00Q-0000006Vm9r')").fetchone() == (
        "001A0000006Vm9rIAC", "001A0000006Vm9rIAC", "00QA", "00Q-0000006Vm9r")


# --- Salesforce: when a lead was converted ----------------------------------------------------


SAME_DAY_LEADS = (
    "Id,CreatedDate,Status,IsConverted,ConvertedDate\n"
    "00Q1,2026-03-10T15:00:00.000Z,Closed - Converted,true,2026-03-10\n"  # 09:00 in Mexico City
    "00Q2,2026-03-02T15:00:00.000Z,Closed - Converted,true,2026-03-10\n")


def _conversion(out: Path) -> dict[str, str]:
    return {e[0]: e[2] for e in events(out) if e[1] == "sql"}


def test_salesforce_conversion_time_is_the_history_leadconverted_row(tmp_path):
    leads, history = tmp_path / "Lead.csv", tmp_path / "LeadHistory.csv"
    leads.write_text(SAME_DAY_LEADS)
    history.write_text("Id,LeadId,CreatedDate,Field,OldValue,NewValue\n"
                       "h1,00Q1,2026-03-10T16:00:00.000Z,Status,Open - Not Contacted,MQL\n"
                       "h2,00Q1,2026-03-10T21:00:00.000Z,leadConverted,,\n")
    import_salesforce(leads, tmp_path / "out", lead_history=history, timezone="America/Mexico_City")
    # Not midnight (06:00Z), before the MQL at 16:00Z: the MQL entry would move to midnight.
    assert _conversion(tmp_path / "out") == {"00Q1": "2026-03-10T21:00:00Z",
                                             "00Q2": "2026-03-10T06:00:00Z"}


def test_salesforce_conversion_date_is_no_earlier_than_the_lead_s_last_event_that_day(tmp_path):
    leads, history = tmp_path / "Lead.csv", tmp_path / "LeadHistory.csv"
    leads.write_text(SAME_DAY_LEADS)
    history.write_text("Id,LeadId,CreatedDate,Field,OldValue,NewValue\n"
                       "h1,00Q1,2026-03-10T16:00:00.000Z,Status,Open - Not Contacted,MQL\n"
                       "h3,00Q2,2026-03-09T16:00:00.000Z,Status,Open - Not Contacted,MQL\n")
    import_salesforce(leads, tmp_path / "history", lead_history=history, timezone="America/Mexico_City")
    # 00Q1 became an MQL at 10:00 local that day; 00Q2's MQL was the day before: midnight.
    assert _conversion(tmp_path / "history") == {"00Q1": "2026-03-10T16:00:00Z",
                                                 "00Q2": "2026-03-10T06:00:00Z"}
    import_salesforce(leads, tmp_path / "leads", timezone="America/Mexico_City")
    # Without a history, the lead's creation that day.
    assert _conversion(tmp_path / "leads") == {"00Q1": "2026-03-10T15:00:00Z",
                                               "00Q2": "2026-03-10T06:00:00Z"}


def test_salesforce_opportunity_dates_without_a_time_are_no_earlier_than_the_lead_s_events_that_day(tmp_path):
    """A report writes an opportunity's Created Date as a date, and CloseDate is always one.
    At midnight, the opportunity of a lead that became an MQL at 10:00 and was converted that
    day came before the MQL: the MQL entry (the earliest event at or after it, SPEC §3) moved
    to midnight and the 10:30 call was a breach of a 4-hour first touch. Such a date is no
    earlier than the lead's latest event that local day, and a deal won the day its
    opportunity was created is no earlier than that creation; the deal keeps its dates."""
    leads, history, opps = tmp_path / "Lead.csv", tmp_path / "LeadHistory.csv", tmp_path / "Opportunity.csv"
    leads.write_text('"Lead ID","Create Date","Converted","Converted Date","Converted Opportunity ID"\n'
                     '"00QA","3/10/2026 9:00 AM","1","3/10/2026","006A"\n'
                     '"00QB","3/11/2026 8:00 AM","1","3/11/2026","006B"\n')
    history.write_text('"Lead ID","Field / Event","Edit Date","New Value"\n'
                       '"00QA","Lead Status","3/10/2026 10:00 AM","MQL"\n')
    opps.write_text('"Opportunity ID","Created Date","Close Date","Closed","Won","Amount"\n'
                    '"006A","3/10/2026","3/12/2026","1","1","1000"\n'
                    '"006B","2026-03-11T20:00:00.000Z","3/11/2026","1","1","500"\n')
    out = tmp_path / "out"
    import_salesforce(leads, out, lead_history=history, opportunities=opps, timezone="America/Mexico_City")
    assert events(out) == [  # Mexico City is UTC-6
        ("00QA", "customer", "2026-03-12T06:00:00Z"),  # no event of the lead that day: midnight
        ("00QA", "lead", "2026-03-10T15:00:00Z"),
        ("00QA", "mql", "2026-03-10T16:00:00Z"),
        ("00QA", "opportunity", "2026-03-10T16:00:00Z"),  # was midnight, 06:00Z
        ("00QA", "sql", "2026-03-10T16:00:00Z"),
        ("00QB", "customer", "2026-03-11T20:00:00Z"),  # won the day the opportunity was made
        ("00QB", "lead", "2026-03-11T14:00:00Z"),
        ("00QB", "opportunity", "2026-03-11T20:00:00Z"),
        ("00QB", "sql", "2026-03-11T14:00:00Z")]
    assert [(r[0], r[2], r[3]) for r in read(out, "deals")] == [
        ("006A", "2026-03-10T06:00:00Z", "2026-03-12T06:00:00Z"),
        ("006B", "2026-03-11T20:00:00Z", "2026-03-11T06:00:00Z")]


def test_salesforce_conversion_date_is_a_day_of_the_time_zone_also_for_events_on_the_next_utc_day(tmp_path):
    leads, history = tmp_path / "Lead.csv", tmp_path / "LeadHistory.csv"
    # Created 20:00 and an MQL 21:00 on March 10 in Mexico City (UTC-6): March 11 in UTC.
    leads.write_text("Id,CreatedDate,Status,IsConverted,ConvertedDate\n"
                     "00Q1,2026-03-11T02:00:00.000Z,Closed - Converted,true,2026-03-10\n")
    history.write_text("Id,LeadId,CreatedDate,Field,OldValue,NewValue\n"
                       "h1,00Q1,2026-03-11T03:00:00.000Z,Status,Open - Not Contacted,MQL\n")
    import_salesforce(leads, tmp_path / "out", lead_history=history, timezone="America/Mexico_City")
    # The conversion day is March 10 local: no earlier than that day's MQL, not its midnight (06:00Z).
    assert _conversion(tmp_path / "out") == {"00Q1": "2026-03-11T03:00:00Z"}


def test_salesforce_tasks_on_a_converted_contact_or_opportunity_touch_its_lead_and_others_are_left_out(tmp_path):
    """A task logged on the Contact or (WhatId only) the Opportunity a lead was converted to is
    that lead's touch, 15- or 18-character Ids alike; a task on an account or on a contact no
    lead was converted to touches no lead, and was quarantined against the quarantine rate: it
    is left out, and said. A task on a lead missing from the export stays, for the loader."""
    leads, tasks = tmp_path / "Lead.csv", tmp_path / "Task.csv"
    leads.write_text("Id,CreatedDate,IsConverted,ConvertedDate,ConvertedContactId,ConvertedOpportunityId\n"
                     "00Q5g00000AbCdE,2026-01-05T09:15:00Z,true,2026-01-20,0035g00000QrStu,0065g00000XyZ12\n"
                     "00Q5g00000AbCdF,2026-01-06T09:15:00Z,false,,,\n")
    tasks.write_text("Id,WhoId,WhatId,Type,Status,CreatedDate\n"
                     "00T1,00Q5g00000AbCdFEAV,,Call,Completed,2026-01-07T10:00:00Z\n"
                     "00T2,0035g00000QrStuAAF,0015g00000Acc01AAA,Email,Completed,2026-01-22T10:00:00Z\n"
                     "00T3,,0065g00000XyZ12AAF,Meeting,Completed,2026-01-23T10:00:00Z\n"
                     "00T4,,0015g00000Acc01AAA,Call,Completed,2026-01-24T10:00:00Z\n"  # an account's
                     "00T5,0035g00000Other1AAA,,Call,Completed,2026-01-25T10:00:00Z\n"  # a contact's, never a lead
                     "00T6,00Q5g00000Gone1AAA,,Call,Completed,2026-01-26T10:00:00Z\n"  # a lead not exported
                     "00T7,0035g00000Other1AAA,,Call,Not Started,2026-01-27T10:00:00Z\n")
    out = tmp_path / "out"
    written = import_salesforce(leads, out, tasks=tasks, timezone="UTC")
    a, b = "00Q5g00000AbCdEEAV", "00Q5g00000AbCdFEAV"
    assert [r[:2] for r in read(out, "activities")] == [
        ("00T1", b), ("00T2", a), ("00T3", a), ("00T6", "00Q5g00000Gone1AAA")]
    assert [n for n in written.notes if "Task.csv" in n] == [
        "note: Task.csv: 1 of 7 tasks left out as not done (Status not Completed): an open or not-started task "
        "is no touch",
        # Of the 6 done: 00T7, a never-converted contact's too, is left out as not done.
        "note: Task.csv: 2 of the 6 done tasks left out as on no lead: their WhoId and WhatId name no lead of "
        "Lead.csv, "
        "nor a contact or opportunity one was converted to (an account, a contact never converted from a "
        "lead): a touch of no lead"]
    report = load_data_dir(out, duckdb.connect(), STAGE_VALUES)
    assert (report.tables["activities"].rows_loaded, report.tables["activities"].quarantined_rows) == (3, 1)

    # A leads export without the converted records' Ids cannot link them: the note says so.
    leads.write_text("Id,CreatedDate,IsConverted,ConvertedDate\n00Q5g00000AbCdE,2026-01-05T09:15:00Z,true,2026-01-20\n")
    tasks.write_text("Id,WhoId,Type,CreatedDate\n00T2,0035g00000QrStuAAF,Email,2026-01-22T10:00:00Z\n")
    written = import_salesforce(leads, tmp_path / "out2", tasks=tasks, timezone="UTC")
    assert written.rows["activities"] == 0
    assert written.notes == [
        "note: Lead.csv: has no ConvertedOpportunityId, which says which converted leads have an opportunity: the "
        "1 converted lead is written without an opportunity stage; export it",
        "note: Task.csv: 1 of 1 task left out as on no lead: its WhoId names no lead of Lead.csv, nor a contact "
        "or opportunity one was converted to (an account, a contact never converted from a lead): a touch of no "
        "lead; Lead.csv has no ConvertedContactId or ConvertedOpportunityId: export them, or the tasks on the "
        "records leads were converted to are among them"]


def test_salesforce_events_are_touches_as_tasks_are(tmp_path):
    """Calls and meetings logged as Events were no touches: an MQL met in a meeting had no
    first touch. An Event is one at its start, on its lead, as a task is (its WhoId, or the
    converted Contact or Opportunity); an all-day event at its day's start in --timezone."""
    out = tmp_path / "out"
    written = import_salesforce(SALESFORCE / "Lead.csv", out, tasks=SALESFORCE / "Task.csv",
                                events=SALESFORCE / "Event.csv", timezone="America/Mexico_City")
    assert written.rows["activities"] == 6
    assert read(out, "activities")[3:] == [
        # On the Opportunity LEAD1 was converted to (WhatId, no WhoId).
        ("00U000000000001AAA", LEAD1, "2026-01-27T17:00:00Z", "sales", "meeting"),
        ("00U000000000002AAA", LEAD2, "2026-02-13T16:30:00Z", "sales", "call"),
        # All day: ActivityDate, a day of --timezone (UTC-6); without a Type, "event".
        ("00U000000000004AAA", LEAD4, "2026-03-20T06:00:00Z", "sales", "event"),
    ]
    assert [n for n in written.notes if "Event.csv" in n] == [
        "note: Event.csv: 1 of 4 events left out as on no lead: its WhoId and WhatId name no lead of Lead.csv, "
        "nor a contact or opportunity one was converted to (an account, a contact never converted from a lead): "
        "a touch of no lead"]
    report = load_data_dir(out, duckdb.connect(), STAGE_VALUES)
    assert (report.tables["activities"].rows_loaded, report.quarantined_rows) == (6, 0)

    # Events only, by their labels, without Ids: numbered in the export's order.
    events = tmp_path / "Event.csv"
    events.write_text("Name ID,Related To ID,Start Date Time,Event Subtype\n"
                      f"{LEAD2},,2026-02-13T16:30:00.000Z,Event\n{LEAD1},,2026-01-21T16:30:00.000Z,\n")
    written = import_salesforce(SALESFORCE / "Lead.csv", tmp_path / "labels", events=events, timezone="UTC")
    assert read(tmp_path / "labels", "activities") == [
        ("event-1", LEAD2, "2026-02-13T16:30:00Z", "sales", "event"),
        ("event-2", LEAD1, "2026-01-21T16:30:00Z", "sales", "event")]

    events.write_text(f"WhoId,CreatedDate\n{LEAD2},2026-02-13T16:30:00.000Z\n")
    with pytest.raises(InputError) as exc:
        import_salesforce(SALESFORCE / "Lead.csv", tmp_path / "none", events=events, timezone="UTC")
    assert str(exc.value) == (f"{events} ActivityDateTime: missing the start column; expected 'ActivityDateTime' "
                              "or 'Due Date Time' or 'StartDateTime' or 'Start Date Time' or 'ActivityDate' or "
                              "'Due Date Only'")


def test_salesforce_leads_without_converted_opportunity_ids_are_refused_with_opportunities(tmp_path):
    """Without ConvertedOpportunityId, every deal of --opportunities was written without its
    lead and no lead had an opportunity or customer stage, without a word; without
    --opportunities, the converted leads had no opportunity stage, also without a word."""
    leads = tmp_path / "Lead.csv"
    leads.write_text("Id,CreatedDate,IsConverted,ConvertedDate,ConvertedContactId\n"
                     f"{LEAD1},2026-01-05T15:15:00.000Z,true,2026-01-20,003000000000001AAA\n"
                     f"{LEAD2},2026-02-10T22:30:00.000Z,false,,\n")
    with pytest.raises(InputError) as exc:
        import_salesforce(leads, tmp_path / "out", opportunities=SALESFORCE / "Opportunity.csv", timezone="UTC")
    assert str(exc.value) == (
        f"{leads} ConvertedOpportunityId: missing the converted opportunity Id column, which links each "
        "Opportunity of --opportunities to the lead converted into it; expected 'ConvertedOpportunityId' or "
        "'Converted Opportunity ID'")
    assert not (tmp_path / "out").exists()

    written = import_salesforce(leads, tmp_path / "out", timezone="UTC")
    assert sorted({r[1] for r in read(tmp_path / "out", "lifecycle_events")}) == ["lead", "sql"]
    assert written.notes == [
        "note: Lead.csv: has no ConvertedOpportunityId, which says which converted leads have an opportunity: the "
        "1 converted lead is written without an opportunity stage; export it"]

    # No converted lead: none to link, nothing lost; the deals are read without a lead.
    leads.write_text("Id,CreatedDate,IsConverted,ConvertedDate\n" f"{LEAD2},2026-02-10T22:30:00.000Z,false,\n")
    written = import_salesforce(leads, tmp_path / "none", opportunities=SALESFORCE / "Opportunity.csv", timezone="UTC")
    assert written.rows["deals"] == 2 and not [n for n in written.notes if "ConvertedOpportunityId" in n]


def test_salesforce_an_all_day_event_is_a_touch_at_its_day_s_start_in_the_time_zone_not_at_midnight_utc(tmp_path):
    """Salesforce writes an all-day event's StartDateTime at midnight UTC of its day, which was
    read before its ActivityDate: a trade fair on 1 March in Mexico City (UTC-6) was a touch
    at 18:00 on 28 February, a month early. IsAllDayEvent says to read ActivityDate."""
    events = tmp_path / "Event.csv"
    events.write_text("Activity ID,Name ID,Start Date Time,Due Date Only,All-Day Event\n"
                      f"00U1,{LEAD2},2026-03-01T00:00:00.000Z,2026-03-01,1\n"
                      f"00U2,{LEAD2},2026-03-02T17:00:00.000Z,2026-03-02,0\n")
    import_salesforce(SALESFORCE / "Lead.csv", tmp_path / "out", events=events, timezone="America/Mexico_City")
    assert [(r[0], r[2]) for r in read(tmp_path / "out", "activities")] == [
        ("00U1", "2026-03-01T06:00:00Z"), ("00U2", "2026-03-02T17:00:00Z")]


WRONG_OBJECT = "expected {this} export; give {that} export with {option}, each object in its own export"
AS_TASKS = WRONG_OBJECT.format(this="a Task", that="an Event", option="--events")
AS_EVENTS = WRONG_OBJECT.format(this="an Event", that="a Task", option="--tasks")


@pytest.mark.parametrize("option, export, expected", [
    ("tasks", None, ":2 Id: '00U000000000001AAA' is an Event's Id (00U…), not a Task's (00T…): " + AS_TASKS),
    ("events", f"Activity ID,Name ID,Subject,Due Date Only,Status\n00T000000000001AAA,{LEAD1},Call,2026-01-08,Completed\n",
     ":2 Activity ID: '00T000000000001AAA' is a Task's Id (00T…), not an Event's (00U…): " + AS_EVENTS),
    ("tasks", f"Name ID,Subject,Created Date,Start Date Time\n{LEAD2},Call,2026-02-12T21:00:00Z,2026-02-13T16:30:00Z\n",
     " Start Date Time: a field of an Event, which a Task has not: " + AS_TASKS),
    ("events", f"Name ID,Subject,Completed Date/Time,Due Date Only\n{LEAD2},Call,2026-02-13T16:30:00Z,2026-02-13\n",
     " Completed Date/Time: a field of a Task, which an Event has not: " + AS_EVENTS),
], ids=["the Event export as tasks", "a Task export with its due date as events",
        "a report of events without Ids as tasks", "a report of tasks without Ids as events"])
def test_salesforce_an_export_of_events_given_as_tasks_or_of_tasks_as_events_is_refused(tmp_path, option, export,
                                                                                         expected):
    """An Event export given with --tasks was read as done tasks at their creation, not their
    start; a Task export with its due date (ActivityDate) given with --events as all-day events
    on it: touches at the wrong times, without a word. A Task's Id starts 00T, an Event's 00U;
    a report without its Activity ID is told by a field only the other object has."""
    given = SALESFORCE / "Event.csv"
    if export is not None:
        given = tmp_path / "Activities.csv"
        given.write_text(export)
    with pytest.raises(InputError) as exc:
        import_salesforce(SALESFORCE / "Lead.csv", tmp_path / "out", timezone="UTC", **{option: given})
    assert str(exc.value) == f"{given}{expected}"
    assert not (tmp_path / "out").exists()


def test_salesforce_open_tasks_are_no_touches_and_the_import_says_how_many_it_left_out(tmp_path):
    tasks = tmp_path / "Task.csv"
    tasks.write_text("Id,WhoId,Subject,Type,Status,IsClosed,CreatedDate,CompletedDateTime\n"
                     "00T1,00Q000000000001AAA,Call new MQL (auto),Call,Not Started,false,2026-01-08T22:30:05.000Z,\n"
                     "00T2,00Q000000000001AAA,Call,Call,Completed,true,2026-01-08T23:00:00.000Z,2026-01-08T23:10:00.000Z\n"
                     "00T3,00Q000000000002AAA,Demo,Meeting,Done,TRUE,2026-02-12T20:00:00.000Z,\n"
                     "00T4,00Q000000000002AAA,Follow up,Email,In Progress,false,2026-02-13T20:00:00.000Z,\n")
    written = import_salesforce(SALESFORCE / "Lead.csv", tmp_path / "out", tasks=tasks, timezone="UTC")
    assert [r[0] for r in read(tmp_path / "out", "activities")] == ["00T2", "00T3"]
    assert written.notes == ["note: Task.csv: 2 of 4 tasks left out as not done (IsClosed not true and "
                             "Status not Completed): an open or not-started task is no touch"]
    # Only a Status column: Completed is done.
    tasks.write_text("Id,WhoId,Status,CreatedDate\n00T1,00Q000000000001AAA,Not Started,2026-01-08T22:30:05Z\n"
                     "00T2,00Q000000000001AAA,completed,2026-01-08T23:00:00Z\n")
    written = import_salesforce(SALESFORCE / "Lead.csv", tmp_path / "out", tasks=tasks, timezone="UTC")
    assert [r[0] for r in read(tmp_path / "out", "activities")] == ["00T2"]
    assert "(Status not Completed)" in written.notes[0]


def test_salesforce_a_task_left_out_is_not_checked_but_done_it_is_refused_naming_its_line(tmp_path):
    """An auto-created "Call new MQL" task still open, with its date as a user typed it
    (day-first), is no touch: yet it refused the whole import."""
    tasks = tmp_path / "Task.csv"
    tasks.write_text("Id,WhoId,Type,Status,CreatedDate\n"
                     f"00T1,{LEAD1},Call,Completed,2026-01-08T23:00:00Z\n"
                     f"00T2,{LEAD2},Call,Not Started,13/02/2026 09:00\n")
    written = import_salesforce(SALESFORCE / "Lead.csv", tmp_path / "out", tasks=tasks, timezone="UTC")
    assert [r[0] for r in read(tmp_path / "out", "activities")] == ["00T1"]
    assert written.notes == ["note: Task.csv: 1 of 2 tasks left out as not done (Status not Completed): an open "
                             "or not-started task is no touch"]
    tasks.write_text(tasks.read_text().replace("Not Started", "Completed"))
    with pytest.raises(InputError) as exc:
        import_salesforce(SALESFORCE / "Lead.csv", tmp_path / "out", tasks=tasks, timezone="UTC")
    assert str(exc.value).startswith(f"{tasks}:3 CreatedDate: '13/02/2026 09:00' is a day-first date")
    assert [r[0] for r in read(tmp_path / "out", "activities")] == ["00T1"]  # the last import's, as it was


def test_salesforce_an_event_on_no_lead_is_not_checked_but_on_a_lead_it_is_refused_naming_its_line(tmp_path):
    """An account's meeting is no touch of a lead: its day-first start refused the import."""
    events = tmp_path / "Event.csv"
    events.write_text("Id,WhoId,WhatId,StartDateTime\n"
                      f"00U1,{LEAD2},,2026-02-13T16:30:00Z\n"
                      "00U2,,001000000000001AAA,13/02/2026 09:00\n")
    written = import_salesforce(SALESFORCE / "Lead.csv", tmp_path / "out", events=events, timezone="UTC")
    assert [r[0] for r in read(tmp_path / "out", "activities")] == ["00U1"]
    assert [n.split(":")[:2] for n in written.notes] == [["note", " Event.csv"]]
    assert "1 of 2 events left out as on no lead" in written.notes[0]
    events.write_text(events.read_text().replace(",001000000000001AAA,", f"{LEAD2},,"))
    with pytest.raises(InputError) as exc:
        import_salesforce(SALESFORCE / "Lead.csv", tmp_path / "out2", events=events, timezone="UTC")
    assert str(exc.value).startswith(f"{events}:3 StartDateTime: '13/02/2026 09:00' is a day-first date")


def test_salesforce_the_warnings_on_the_times_of_tasks_count_only_the_tasks_imported(tmp_path):
    """The tasks left out (not done, on no lead) are counted in their own notes, not also in
    the warnings on the times imported: 1 time read as UTC, not 3."""
    tasks = tmp_path / "Task.csv"
    tasks.write_text("Id,WhoId,WhatId,Type,Status,CreatedDate\n"
                     f"00T1,{LEAD1},,Call,Completed,2026-01-08 23:00\n"
                     f"00T2,{LEAD2},,Call,Not Started,2026-02-13 09:00\n"
                     "00T3,,001000000000001AAA,Call,Completed,2026-02-14 09:00\n")
    written = import_salesforce(SALESFORCE / "Lead.csv", tmp_path / "out", tasks=tasks)
    assert [n for n in written.notes if "Task.csv" in n] == [
        "warning: Task.csv CreatedDate: 1 time without an offset read as UTC; if the export writes local times "
        "(a CRM's UI exports write the user's zone), pass --timezone <the export's zone>",
        "note: Task.csv: 1 of 3 tasks left out as not done (Status not Completed): an open or not-started task "
        "is no touch",
        "note: Task.csv: 1 of the 2 done tasks left out as on no lead: its WhoId and WhatId name no lead of "
        "Lead.csv, nor "
        "a contact or opportunity one was converted to (an account, a contact never converted from a lead): a "
        "touch of no lead"]


def test_salesforce_export_all_leaves_out_deleted_and_merged_away_records(tmp_path):
    """Data Loader's Export All (extract_all) includes soft-deleted records: a lead merged into
    another (IsDeleted, MasterRecordId), a deleted opportunity, a deleted task. They were a lead,
    won revenue and a first touch of their own."""
    leads, opps, tasks = tmp_path / "Lead.csv", tmp_path / "Opportunity.csv", tmp_path / "Task.csv"
    leads.write_text(
        '"Id","IsDeleted","MasterRecordId","CreatedDate","Status","IsConverted","ConvertedDate",'
        '"ConvertedContactId","ConvertedOpportunityId"\n'
        '"00Q1","false","","2026-01-05T15:15:00.000Z","Closed - Converted","true","2026-01-20","0031","0061"\n'
        '"00Q2","true","00Q1","2026-01-06T15:15:00.000Z","Open - Not Contacted","false","","",""\n')
    opps.write_text('"Id","IsDeleted","Name","CreatedDate","CloseDate","StageName","IsClosed","IsWon","Amount",'
                    '"CurrencyIsoCode"\n'
                    '"0061","false","Acme","2026-01-20T18:05:00.000Z","2026-03-02","Closed Won","true","true","15000.00","USD"\n'
                    '"0062","true","Acme (copy)","2026-01-20T18:06:00.000Z","2026-03-02","Closed Won","true","true","15000.00","USD"\n')
    tasks.write_text('"Id","IsDeleted","WhoId","Status","IsClosed","CreatedDate","CompletedDateTime","Type"\n'
                     '"00T1","true","00Q1","Completed","true","2026-01-05T16:00:00.000Z","2026-01-05T16:00:00.000Z","Call"\n'
                     '"00T2","false","00Q1","Completed","true","2026-01-07T16:00:00.000Z","2026-01-07T16:00:00.000Z","Call"\n')
    written = import_salesforce(leads, tmp_path / "out", opportunities=opps, tasks=tasks, timezone="UTC")
    assert [r[0] for r in read(tmp_path / "out", "contacts")] == ["00Q1"]
    assert [(r[0], r[1], r[4]) for r in read(tmp_path / "out", "deals")] == [("0061", "00Q1", "won")]
    assert [r[0] for r in read(tmp_path / "out", "activities")] == ["00T2"]
    assert written.notes == [
        f"note: {name}: 1 of 2 records left out as deleted (IsDeleted true: in the Recycle Bin, or "
        "merged into another record)" for name in ("Lead.csv", "Opportunity.csv", "Task.csv")]


@pytest.mark.parametrize("n, deals, open_or_lost, won, of_records, of_tasks", [
    (1, "1 deal", "1 open or lost deal", "1 won deal", "1 of 1 record", "1 of 1 task"),
    (2, "2 deals", "2 open or lost deals", "2 won deals", "2 of 2 records", "2 of 2 tasks"),
], ids=["one row", "two rows"])
def test_the_importers_notes_count_in_the_singular_and_the_plural(tmp_path, n, deals, open_or_lost, won,
                                                                   of_records, of_tasks):
    """'1 won deals', '1 of 1 records left out' read as slips, and made the notes' counts doubted."""
    by_stage, flagged = tmp_path / "by_stage.csv", tmp_path / "flagged.csv"
    by_stage.write_text("Record ID,Deal Stage,Amount,Close Date,Create Date\n"
                        + "".join(f"{i},Contract Signed,,2026-06-30 10:00,2026-01-02 10:00\n" for i in range(n)))
    flagged.write_text("Record ID,Is Closed Won,Amount,Amount in company currency,Close Date,Create Date\n"
                       + "".join(f"{i},Yes,100,,2026-03-02 10:00,2026-01-02 10:00\n" for i in range(n)))
    contacts = HUBSPOT / "contacts_labels.csv"
    notes = (import_hubspot(contacts, tmp_path / "hs", deals=by_stage, timezone="UTC").notes
             + import_hubspot(contacts, tmp_path / "hs2", deals=flagged, timezone="UTC").notes)
    said = [f"note: by_stage.csv: {deals} written open, as", f"note: by_stage.csv: {open_or_lost} without an amount",
            f"note: flagged.csv: {won} with an 'Amount'"]
    assert [[note for note in notes if note.startswith(start)] != [] for start in said] == [True] * 3, notes
    leads, opps, tasks = tmp_path / "Lead.csv", tmp_path / "Opportunity.csv", tmp_path / "Task.csv"
    leads.write_text("Id,CreatedDate,Status,IsConverted,ConvertedDate,ConvertedContactId,ConvertedOpportunityId\n"
                     "00Q1,2026-01-05T15:15:00.000Z,Open,false,,,\n")
    opps.write_text("Id,IsDeleted,CreatedDate,CloseDate,StageName,IsClosed,IsWon,Amount\n"
                    + "".join(f"006{i},true,2026-01-20T18:05:00.000Z,2026-03-02,Closed Won,true,true,10\n"
                              for i in range(n)))
    tasks.write_text("Id,WhoId,IsClosed,CreatedDate\n"
                     + "".join(f"00T{i},00Q1,false,2026-01-22T10:00:00Z\n" for i in range(n)))
    notes = import_salesforce(leads, tmp_path / "sf", opportunities=opps, tasks=tasks, timezone="UTC").notes
    assert [note.split(" as ")[0] for note in notes] == [
        f"note: Opportunity.csv: {of_records} left out", f"note: Task.csv: {of_tasks} left out"]


def test_a_note_on_one_thing_speaks_of_it_in_the_singular(tmp_path):
    """'1 deal written open, as their stage is …', '1 of 2 ids … their digits are lost, so they
    may match', '1 won deal … fix the deals', '1 calendar date … to place them' read as slips."""
    contacts, deals = tmp_path / "contacts.csv", tmp_path / "deals.csv"
    contacts.write_text("Record ID,Create Date,Became a Lead Date\n"
                        "1.23457E+11,2026-01-05 09:15,2026-01-05\n2,2026-01-06 09:15,2026-01-06 09:15\n")
    deals.write_text("Record ID,Create Date,Close Date,Deal Stage,Amount,Amount in company currency,Currency\n"
                     "9001,2026-01-20 12:00,2026-03-02 18:45,Contract Signed,100,100,USD\n"
                     "9002,2026-01-20 12:00,2026-03-02 18:45,closedwon,100,,EUR\n")
    notes = import_hubspot(contacts, tmp_path / "out", deals=deals).notes
    assert ("warning: contacts.csv Became a Lead Date: 1 calendar date read as midnight UTC; pass --timezone "
            "<the agreement's zone> to place it in its days") in notes
    assert ("warning: contacts.contact_id: 1 of 2 ids is in a spreadsheet's scientific notation (e.g. "
            "'1.23457E+11'): its digits are lost, so it may match no other row; export the file again without "
            "saving it from a spreadsheet, or open the column as text") in notes
    assert [n.split(" (")[0] for n in notes if "written open" in n] == [
        "note: deals.csv: 1 deal written open, as its stage is no closed-won or closed-lost one"]
    assert [n.split(": fix ")[1] for n in notes if "company currency" in n] == ["the deal in HubSpot and export again"]


def test_counted_says_a_count_with_its_noun_in_the_singular_or_the_plural():
    assert [counted(1, "won deal"), counted(2_000, "won deal"), counted(0, "row")] == [
        "1 won deal", "2,000 won deals", "0 rows"]
    assert [counted(1, "activity"), counted(2, "activity"), counted(2, "day")] == [
        "1 activity", "2 activities", "2 days"]
    assert [counted(1, "person"), counted(7, "person")] == ["1 person", "7 people"]


@pytest.mark.parametrize("body, line, message", [
    ('Record ID,Create Date,Became a Lead Date,Job Title\n1,2026-01-05 10:00,2026-01-05 10:00,"Head of\nGrowth"\n'
     "2,2026-01-05 10:00,2026-01-05 10:00\n3,2026-01-05 10:00,2026-01-05 10:00,CEO\n",
     4, "3 values, expected 4 (one per column of the header)"),
    ("Record ID;Create Date;Became a Lead Date\n1;2026-01-05 10:00;2026-01-05 10:00;extra\n",
     2, "4 values, expected 3 (one per column of the header)"),
], ids=["a value too few", "semicolons, a value too many"])
def test_a_ragged_row_is_named_not_reported_as_a_missing_id_column(tmp_path, body, line, message):
    """DuckDB's sniffer read such a file as one column, and the id column was 'missing'."""
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(body)
    with pytest.raises(InputError) as exc:
        import_hubspot(contacts, tmp_path / "out")
    assert str(exc.value) == f"{contacts}:{line}: {message}"


def test_an_export_named_with_glob_characters_is_the_file_read(tmp_path):
    """DuckDB reads a file name as a glob pattern: 'contacts [1].csv' read 'contacts 1.csv'."""
    (tmp_path / "contacts 1.csv").write_text(HUBSPOT_HEADER + "OTHER,2026-01-05 09:15,2026-01-05 09:15\n")
    (tmp_path / "contacts [1].csv").write_text(HUBSPOT_HEADER + "1,2026-01-05 09:15,2026-01-05 09:15\n")
    import_hubspot(tmp_path / "contacts [1].csv", tmp_path / "out", timezone="UTC")
    assert [r[0] for r in read(tmp_path / "out", "contacts")] == ["1"]


def test_an_empty_export_is_named_empty(tmp_path):
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("")
    with pytest.raises(InputError, match="contacts.csv:1: the file is empty: expected a header row"):
        import_hubspot(contacts, tmp_path / "out")


@pytest.mark.parametrize("delimiter, separator", [("'||'", "||"), (r"'\t'", "\t"), ("'\t'", "\t")],
                         ids=["two characters", "tab escape", "tab"])
def test_a_mapping_delimiter_duckdb_reads_is_read_by_the_checks_too(tmp_path, delimiter, separator):
    """DuckDB reads `||` and the escape `\\t`; Python's csv module takes one character only,
    and the checks around the read crashed with a TypeError on them."""
    rows = ["Person ID", "Created"], ["P-1", "2026-01-05 10:00"], ["P-2", "2026-01-06 11:00"]
    (tmp_path / "people.csv").write_text("".join(separator.join(r) + "\n" for r in rows))
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(f"timezone: UTC\ntables:\n  contacts: {{file: people.csv, delimiter: {delimiter}, "
                       "columns: {contact_id: Person ID, created_at: Created}}\n")
    assert import_csv(mapping, tmp_path / "out").rows == {"contacts": 2}
    assert [r[:2] for r in read(tmp_path / "out", "contacts")] == [("P-1", "2026-01-05T10:00:00Z"),
                                                                    ("P-2", "2026-01-06T11:00:00Z")]


def test_a_row_refused_in_a_file_with_a_two_character_delimiter_names_file_and_column(tmp_path):
    (tmp_path / "people.csv").write_text("Person ID||Created\nP-1||12/25/2026 10:00\nP-2||25/12/2026 10:00\n")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("timezone: UTC\ntables:\n  contacts: {file: people.csv, delimiter: '||', "
                       "columns: {contact_id: Person ID, created_at: Created}}\n")
    with pytest.raises(InputError, match="day-first date") as exc:
        import_csv(mapping, tmp_path / "out")
    assert str(exc.value).startswith(f"{tmp_path / 'people.csv'} Created:")


UNTERMINATED = "not valid CSV: unexpected end of data (an unterminated quote?)"
HUBSPOT_HEADER = "Record ID,Create Date,Became a Lead Date\n"


@pytest.mark.parametrize("body, line", [
    (HUBSPOT_HEADER + '1,2026-01-05 09:15,2026-01-05 09:15\n"2",2026-01-06 09:15,2026-01-06 09:15\n'
     '"3,2026-01-07 09:15,2026-01-07 09:15\n', 4),
    (HUBSPOT_HEADER + '1,2026-01-05 09:15,"2026-01-05 09:15\n', 2),
    # Past the rows DuckDB's sniffer samples, in a file whose ';' was left to be detected.
    (HUBSPOT_HEADER.replace(",", ";") + "".join(f"{i};2026-01-05 09:15;2026-01-05 09:15\n" for i in range(30_000))
     + 'x;2026-01-05 09:15;"2026-01-05 09:15\ny;2026-01-05 09:15;2026-01-05 09:15\n', 30_002),
], ids=["ids '\"2\"' and '\"3'", "a time", "semicolons, past the sniffed rows"])
def test_an_unterminated_quote_in_a_hubspot_export_is_named_with_its_line(tmp_path, body, line):
    """DuckDB's sniffer gave up on quoting for the whole file: the import exited 0 with ids '"2"'
    and '"3' and a time '"2026-01-05 09:15', quote characters and all."""
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(body)
    with pytest.raises(InputError) as exc:
        import_hubspot(contacts, tmp_path / "out")
    assert str(exc.value) == f"{contacts}:{line}: {UNTERMINATED}"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("body, line, message", [
    # DuckDB skipped the blank line and read the header as a data row too: a contact 'Record ID'.
    ("\n" + HUBSPOT_HEADER + "1,2026-01-05 09:15,2026-01-05 09:15\n", 1,
     "the line is blank: expected the header row (the column names) on the first line"),
    # Rows appended with another tool's line breaks: DuckDB failed, naming no line.
    (HUBSPOT_HEADER.replace("\n", "\r\n") + "1,2026-01-05 09:15,2026-01-05 09:15\r\n"
     "2,2026-01-06 09:15,2026-01-06 09:15\n", 3,
     "the line ends with LF (\\n), but line 1 ends with CRLF (\\r\\n, as on Windows)"),
    # DuckDB's sniffer took '#' for a comment character: contact '#2' was skipped, without a word.
    (HUBSPOT_HEADER + "# exported by a script\n#2,2026-01-06 09:15,2026-01-06 09:15\n", 2,
     "1 value, expected 3 (one per column of the header)"),
    # A quoted value of blanks is a value: a row of one value, not a line of only blanks.
    (HUBSPOT_HEADER + '1,2026-01-05 09:15,2026-01-05 09:15\n"  "\n', 3,
     "1 value, expected 3 (one per column of the header)"),
], ids=["a blank line before the header", "CRLF lines, then an LF one", "a comment line", "a quoted blank value"])
def test_an_export_duckdb_misreads_or_cannot_read_is_named_with_its_line(tmp_path, body, line, message):
    contacts = tmp_path / "contacts.csv"
    contacts.write_bytes(body.encode())
    with pytest.raises(InputError) as exc:
        import_hubspot(contacts, tmp_path / "out")
    assert str(exc.value).startswith(f"{contacts}:{line}: {message}")
    assert not (tmp_path / "out").exists()


BLANK_LINE_ROWS = ["1,2026-01-05 09:15,2026-01-05 09:15", "2,2026-01-06 09:15,2026-01-06 09:15"]


@pytest.mark.parametrize("rows, newline", [
    (BLANK_LINE_ROWS + [" \t"], "\n"),  # an editor's last line
    (BLANK_LINE_ROWS[:1] + ["   "] + BLANK_LINE_ROWS[1:] + ["\t"], "\r\n"),
    ([r.replace(",", ";") for r in BLANK_LINE_ROWS[:1]] + [" \u00a0"] + [r.replace(",", ";") for r in BLANK_LINE_ROWS[1:]],
     "\n"),  # a delimiter left to be detected
    # Past the rows DuckDB's sniffer samples: the read failed after the sniffer had not.
    ([f"{i},2026-01-05 09:15,2026-01-05 09:15" for i in range(30_000)] + ["  "] + BLANK_LINE_ROWS, "\n"),
], ids=["a last line of blanks", "lines of blanks among CRLF rows", "semicolons", "past the sniffed rows"])
def test_a_line_of_only_blanks_in_an_export_is_skipped_as_the_loader_skips_it(tmp_path, rows, newline):
    """The loader reads a data directory without such lines, as DuckDB reads it without empty
    lines; an import refused the export, naming the line. It is now read as the same export
    without the line: the same files, and no note (the line held nothing)."""
    header = HUBSPOT_HEADER.strip().replace(",", ";" if ";" in rows[0] else ",")
    with_blanks, without = tmp_path / "with.csv", tmp_path / "without.csv"
    with_blanks.write_bytes(newline.join([header, *rows, ""]).encode())
    without.write_bytes(newline.join([header, *(r for r in rows if r.strip()), ""]).encode())
    imported = import_hubspot(with_blanks, tmp_path / "a", timezone="UTC")
    assert imported == import_hubspot(without, tmp_path / "b", timezone="UTC")
    assert imported.notes == []
    for table in ("contacts", "lifecycle_events"):
        assert (tmp_path / "a" / f"{table}.csv").read_bytes() == (tmp_path / "b" / f"{table}.csv").read_bytes()
    assert imported.rows["contacts"] == len([r for r in rows if r.strip()])


def test_a_line_with_delimiters_and_blanks_is_a_row_and_a_bad_line_after_blank_ones_is_named(tmp_path):
    """Only a line of nothing but blanks is skipped: with delimiters it is a row of blank values
    (left out as such, and said), and a refused row or value after a skipped line is named on
    its own line, not the line before it."""
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(HUBSPOT_HEADER + BLANK_LINE_ROWS[0] + "\n  \n , ,\t\n" + BLANK_LINE_ROWS[1] + "\n")
    imported = import_hubspot(contacts, tmp_path / "out", timezone="UTC")
    assert imported.rows["contacts"] == 2
    assert imported.notes == ["note: contacts.csv: left out 1 row with every value blank (as a spreadsheet saves "
                              "after the data)"]
    contacts.write_text(HUBSPOT_HEADER + BLANK_LINE_ROWS[0] + "\n \t\n2,13/01/2026 09:15,\n")
    with pytest.raises(InputError, match=rf"^{contacts}:4 Create Date: '13/01/2026 09:15' is a day-first date"):
        import_hubspot(contacts, tmp_path / "out2", timezone="UTC")
    contacts.write_text(HUBSPOT_HEADER + BLANK_LINE_ROWS[0] + "\n \t\n2,2026-01-06 09:15\n")
    with pytest.raises(InputError) as exc:
        import_hubspot(contacts, tmp_path / "out3", timezone="UTC")
    assert str(exc.value) == f"{contacts}:4: 2 values, expected 3 (one per column of the header)"


def test_lines_of_only_blanks_are_skipped_in_salesforce_and_mapped_exports(tmp_path):
    """The same rule for every importer: a Salesforce report with its footer, and a mapping
    that gives its delimiter (DuckDB's sniffer then failed on the line, where it had read the
    file as one column)."""
    leads = tmp_path / "Lead.csv"
    leads.write_text("Id,CreatedDate,IsConverted,ConvertedDate\n00Q1,2026-01-05T15:15:00Z,false,\n\t\n"
                     "00Q2,2026-01-06T15:15:00Z,false,\n  \n\n\"Copyright (c) 2000-2026 salesforce.com, inc.\"\n")
    imported = import_salesforce(leads, tmp_path / "sf", timezone="UTC")
    assert imported.rows == {"contacts": 2, "lifecycle_events": 2}
    (tmp_path / "people.csv").write_text("Id;Alta\nP-1;2026-01-05T10:00:00Z\n \nP-2;2026-01-06T10:00:00Z\n\t\n")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("tables:\n  contacts: {file: people.csv, delimiter: ';', columns: {contact_id: Id, created_at: Alta}}\n")
    import_csv(mapping, tmp_path / "out")
    assert [r[0] for r in read(tmp_path / "out", "contacts")] == ["P-1", "P-2"]


def test_an_unterminated_quote_in_a_quoted_salesforce_export_is_named_not_a_missing_id(tmp_path):
    """Read without quoting, the header's '"Id"' was no 'Id' column."""
    leads = tmp_path / "Lead.csv"
    leads.write_text('"Id","CreatedDate","LeadSource"\n"00Q1","2026-01-05T10:00:00.000Z","Web"\n'
                     '"00Q2","2026-01-06T10:00:00.000Z","Web\n')
    with pytest.raises(InputError) as exc:
        import_salesforce(leads, tmp_path / "out")
    assert str(exc.value) == f"{leads}:3: {UNTERMINATED}"


def test_quoted_values_are_read_without_their_quotes(tmp_path):
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(HUBSPOT_HEADER + '1,2026-01-05 09:15,2026-01-05 09:15\n'
                        '"2",2026-01-06 09:15,"2026-01-06 09:15"\n"3 ""B""",2026-01-07 09:15,\n')
    import_hubspot(contacts, tmp_path / "out")
    assert [r[0] for r in read(tmp_path / "out", "contacts")] == ["1", "2", '3 "B"']
    assert events(tmp_path / "out") == [("1", "lead", "2026-01-05T09:15:00Z"),
                                        ("2", "lead", "2026-01-06T09:15:00Z")]


def test_hubspot_events_are_per_row_so_the_loader_sees_repeated_and_blank_record_ids(tmp_path):
    """Events grouped by (Record ID, stage) over the whole file hid rows from the loader: of two
    conflicting rows for one id only the earlier date was written, an exact duplicate row gave
    one event (the duplicate not counted), and every row without a Record ID became one event."""
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("Record ID,Create Date,Became a Lead Date,Became a Marketing Qualified Lead Date\n"
                        "1,2026-11-07 09:00,2026-11-07 09:00,\n"
                        "1,2026-11-08 09:00,2026-11-08 09:00,\n"  # conflicts with the row above
                        "2,2026-11-09 09:00,2026-11-09 09:00,2026-11-10 09:00\n"
                        "2,2026-11-09 09:00,2026-11-09 09:00,2026-11-10 09:00\n"  # an exact copy
                        ",2026-11-11 09:00,2026-11-11 09:00,\n"
                        ",2026-11-12 09:00,2026-11-12 09:00,\n"
                        "3,2026-11-13 09:00,2026-11-13 09:00,\n")
    out = tmp_path / "out"
    assert import_hubspot(contacts, out, timezone="UTC").rows == {"contacts": 7, "lifecycle_events": 9}
    assert [r[:3] for r in read(out, "lifecycle_events")] == [  # in the export's row order
        ("1", "lead", "2026-11-07T09:00:00Z"),
        ("1", "lead", "2026-11-08T09:00:00Z"),
        ("2", "lead", "2026-11-09T09:00:00Z"),
        ("2", "mql", "2026-11-10T09:00:00Z"),
        ("2", "lead", "2026-11-09T09:00:00Z"),
        ("2", "mql", "2026-11-10T09:00:00Z"),
        (None, "lead", "2026-11-11T09:00:00Z"),
        (None, "lead", "2026-11-12T09:00:00Z"),
        ("3", "lead", "2026-11-13T09:00:00Z"),
    ]
    report = load_data_dir(out, duckdb.connect(), STAGE_VALUES)
    events = report.tables["lifecycle_events"]
    assert (events.rows_read, events.rows_loaded, events.duplicate_rows, events.quarantined_rows) == (9, 3, 2, 4)
    # Contact 1's rows conflict, so both are quarantined, and with them both of its events.
    assert report.by_reason == {"conflicting_duplicate_id": 2, "missing_required:contact_id": 4,
                                "unknown_contact": 2}


def _mexico_city_clock(utc: str) -> str:
    """'2026-01-08T22:30:00.000Z' as a US-locale report writes it in Mexico City (UTC-6)."""
    at = datetime.fromisoformat(utc.replace("Z", "+00:00")) - timedelta(hours=6)
    return f"{at.month}/{at.day}/{at.year} {at.strftime('%I:%M %p').lstrip('0')}"


def test_salesforce_lead_history_report_gives_the_status_changes_the_api_export_gives(tmp_path):
    """A Lead History report names its columns 'Field / Event' and 'Edit Date' and the status
    field by its label 'Lead Status': the import stopped at a missing field column."""
    with (SALESFORCE / "LeadHistory.csv").open(newline="") as f:
        api = [row for row in csv.DictReader(f) if row["Field"] == "Status"]
    with (tmp_path / "api.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(api[0]))
        writer.writeheader()
        writer.writerows(api)
    with (tmp_path / "report.csv").open("w", newline="") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_ALL)
        writer.writerow(["Lead ID", "Edited By", "Field / Event", "Old Value", "New Value", "Edit Date"])
        writer.writerows([r["LeadId"], "Jane Doe", "Lead Status", r["OldValue"], r["NewValue"],
                          _mexico_city_clock(r["CreatedDate"])] for r in api)
    for name in ("api", "report"):
        import_salesforce(SALESFORCE / "Lead.csv", tmp_path / f"out_{name}", lead_history=tmp_path / f"{name}.csv",
                          timezone="America/Mexico_City")
    assert events(tmp_path / "out_report") == events(tmp_path / "out_api")
    assert (LEAD1, "mql", "2026-01-08T22:30:00Z") in events(tmp_path / "out_report")


def test_salesforce_qualified_the_newer_list_s_converted_status_is_no_stage_of_its_own(tmp_path):
    # New -> Working -> Marketing Qualified -> Qualified (converted): `qualified` was written
    # as a stage, which no agreement lists, so each converted lead gave a quarantined event.
    leads, history = tmp_path / "Lead.csv", tmp_path / "LeadHistory.csv"
    leads.write_text("Id,CreatedDate,Status,IsConverted,ConvertedDate,ConvertedOpportunityId\n"
                     "00Q1,2026-01-05T15:15:00.000Z,Qualified,true,2026-01-20,0061\n")
    history.write_text("Id,LeadId,CreatedDate,Field,OldValue,NewValue\n"
                       "h1,00Q1,2026-01-10T10:00:00.000Z,Status,New,Working\n"
                       "h2,00Q1,2026-01-12T10:00:00.000Z,Status,Working,Marketing Qualified\n"
                       "h3,00Q1,2026-01-20T10:00:00.000Z,Status,Marketing Qualified,Qualified\n")
    import_salesforce(leads, tmp_path / "out", lead_history=history, timezone="UTC")
    assert events(tmp_path / "out") == [
        ("00Q1", "lead", "2026-01-05T15:15:00Z"), ("00Q1", "mql", "2026-01-12T10:00:00Z"),
        # No leadConverted row: on ConvertedDate, no earlier than the change to Qualified that day.
        ("00Q1", "opportunity", "2026-01-20T10:00:00Z"), ("00Q1", "sql", "2026-01-20T10:00:00Z")]


EXCEL_CONTACTS = ("\ufeffRecord ID;Create Date;Became a Lead Date;Notes\r\n"
                  '1;01/05/2026 09:15 AM;01/05/2026 09:15 AM;"called;\r\nno answer"\r\n'
                  ";;;\r\n"  # a row once formatted, saved empty in the middle
                  "2;01/06/2026 10:00 AM;01/06/2026 10:00 AM;\r\n"
                  ";;;\r\n ; ;;\r\n")


def test_rows_with_every_value_blank_are_left_out_and_said(tmp_path):
    """A spreadsheet saves the rows it once formatted as ';;;' lines after the data: each was a
    contact (and a Salesforce lead event) without an id, one quarantined and the others
    counted as duplicates, against the quarantine rate, though they hold nothing."""
    contacts = tmp_path / "contacts.csv"
    contacts.write_bytes(EXCEL_CONTACTS.encode())
    out = tmp_path / "hs"
    imported = import_hubspot(contacts, out, timezone="UTC")
    assert imported.rows == {"contacts": 2, "lifecycle_events": 2}
    assert [r[:2] for r in read(out, "contacts")] == [("1", "2026-01-05T09:15:00Z"), ("2", "2026-01-06T10:00:00Z")]
    assert ("note: contacts.csv: left out 3 rows with every value blank (as a spreadsheet saves after "
            "the data)") in imported.notes
    report = load_data_dir(out, duckdb.connect(), STAGE_VALUES)
    assert (report.quarantined_rows, report.duplicate_rows) == (0, 0)

    leads = tmp_path / "Lead.csv"
    leads.write_text("Id,CreatedDate,IsConverted,ConvertedDate\n00Q1,2026-01-05T15:15:00Z,false,\n,,,\n,,,\n")
    imported = import_salesforce(leads, tmp_path / "sf", timezone="UTC")
    assert imported.rows == {"contacts": 1, "lifecycle_events": 1}
    assert "note: Lead.csv: left out 2 rows with every value blank (as a spreadsheet saves after the data)" in imported.notes


def test_a_refused_value_after_left_out_blank_rows_is_named_on_its_own_line(tmp_path):
    contacts = tmp_path / "contacts.csv"
    contacts.write_bytes(EXCEL_CONTACTS.replace("01/06/2026 10:00 AM;01", "13/06/2026 10:00;01").encode())
    with pytest.raises(InputError, match=r"contacts.csv:5 Create Date: '13/06/2026 10:00' is a day-first date"):
        import_hubspot(contacts, tmp_path / "out", timezone="UTC")


def test_ids_a_spreadsheet_wrote_in_scientific_notation_are_named_in_a_warning(tmp_path):
    """Excel shows a Record ID of 12 digits as 1.23457E+11 and saves it so: the digits are lost,
    so its deals' contact ids matched no contact, and ids rounded alike were one contact."""
    contacts, deals = tmp_path / "contacts.csv", tmp_path / "deals.csv"
    contacts.write_text("Record ID,Create Date,Became a Lead Date\n"
                        "1.23457E+11,2026-01-05 09:15,2026-01-05 09:15\n"
                        "1.23457E+11,2026-01-06 09:15,2026-01-06 09:15\n"
                        "00012345,2026-01-07 09:15,2026-01-07 09:15\n")
    deals.write_text("Record ID,Create Date,Close Date,Deal Stage,Amount,Associated Contact IDs\n"
                     "9001,2026-01-20 12:00,2026-03-02 18:45,closedwon,100,123456789012\n")
    imported = import_hubspot(contacts, tmp_path / "out", deals=deals, timezone="UTC")
    # Kept as exported (no digits to restore), and said.
    assert [r[0] for r in read(tmp_path / "out", "contacts")] == ["1.23457E+11", "1.23457E+11", "00012345"]
    advice = ("their digits are lost, so they may match no other row; export the file again without saving it "
              "from a spreadsheet, or open the column as text")
    assert [n for n in imported.notes if "scientific" in n] == [
        f"warning: contacts.contact_id: 2 of 3 ids are in a spreadsheet's scientific notation (e.g. '1.23457E+11'): {advice}",
        f"warning: lifecycle_events.contact_id: 2 of 3 ids are in a spreadsheet's scientific notation (e.g. "
        f"'1.23457E+11'): {advice}"]
    # Salesforce's ids are letters and digits, never so read.
    assert not [n for n in import_salesforce(SALESFORCE / "Lead.csv", tmp_path / "sf", timezone="UTC").notes
                if "scientific" in n]


def test_a_spreadsheet_s_two_digit_year_is_this_century_not_the_year_26(tmp_path):
    """Excel saves a cell in a short date format as '1/5/26 9:15'. DuckDB's %Y reads any number
    of digits: that was 5 January of the year 26 (with the zone's 1883 offset), which the
    loader takes, so the contact was created in no period, without a word."""
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("Record ID,Create Date,Became a Lead Date,Became a Marketing Qualified Lead Date\n"
                        "1,1/5/26 9:15,1/5/26,1/6/26 4:30 PM\n"
                        "2,01/06/2026 10:00 am,12/31/25 23:59,\n")
    import_hubspot(contacts, tmp_path / "out", timezone="America/New_York")
    assert [r[:2] for r in read(tmp_path / "out", "contacts")] == [
        ("1", "2026-01-05T14:15:00Z"), ("2", "2026-01-06T15:00:00Z")]
    assert events(tmp_path / "out") == [("1", "lead", "2026-01-05T05:00:00Z"), ("1", "mql", "2026-01-06T21:30:00Z"),
                                        ("2", "lead", "2026-01-01T04:59:00Z")]
    # A day-first short date is refused with the format that reads it.
    contacts.write_text("Record ID,Create Date,Became a Lead Date\n1,13/01/26 09:15,13/01/26\n")
    with pytest.raises(InputError) as exc:
        import_hubspot(contacts, tmp_path / "out", timezone="Europe/London")
    assert str(exc.value).endswith("pass --timestamp-format '%d/%m/%y %H:%M'")
    import_hubspot(contacts, tmp_path / "out", timezone="Europe/London", timestamp_format="%d/%m/%y %H:%M")
    assert events(tmp_path / "out") == [("1", "lead", "2026-01-13T00:00:00Z")]
    # A format with %Y does not read a two-digit year as the year 26: the value is kept, and the
    # loader quarantines it as a bad_timestamp.
    import_hubspot(contacts, tmp_path / "out", timezone="Europe/London", timestamp_format="%d/%m/%Y %H:%M")
    assert read(tmp_path / "out", "contacts")[0][:2] == ("1", "13/01/26 09:15")


def test_an_import_s_queries_print_no_progress_bar_into_stdout(tmp_path, capfd):
    """DuckDB drew its progress bar on stdout for each query of a large export (over 2 s): in
    the command's output redirected to a file, and on a terminal over the import's spinner."""
    from pipelines.data.importers.common import Job

    with Job(tmp_path / "out", ["contacts"], []) as job:
        job.con.execute("set progress_bar_time = 0")  # as soon as a query starts, not after 2 s
        job.con.execute("select count(*) from range(300000000) t(i) where i % 7 = 3").fetchall()
        job.output.write(job.con, "contacts", {"contact_id": "'c1'"}, "range(1)", "_fp_out")
    assert capfd.readouterr().out == ""


def test_salesforce_deals_and_tasks_are_written_in_the_export_s_order_the_same_on_every_import(tmp_path):
    """Opportunities and tasks are joined to the leads they came from, and DuckDB's parallel
    join gave the rows of a large export in another order on each import (from the second
    block of 122,880 rows): the same export made a different file each time, and a task export
    without an Id column gave each task another 'task-N' id."""
    n = 300_000
    con = duckdb.connect()
    lead = tmp_path / "Lead.csv"
    lead.write_text("Id,CreatedDate,IsConverted,ConvertedDate,ConvertedOpportunityId,ConvertedContactId\n"
                    "00Q1,2026-01-05T15:15:00Z,true,2026-01-20,OPP-1,003-1\n")
    opps, tasks = tmp_path / "Opportunity.csv", tmp_path / "Task.csv"
    con.execute("copy (select 'OPP-' || i as Id, '2026-01-20T18:05:00Z' as CreatedDate, '2026-03-02' as CloseDate, "
                f"'Closed Won' as StageName, '100' as Amount from range(1, {n + 1}) t(i)) to '{opps}' (header)")
    con.execute("copy (select case when i = 1 then '003-1' else '00QW' || i end as WhoId, "
                "'2026-01-22T15:00:00Z' as CreatedDate, 'Completed' as Status "
                f"from range(1, {n + 1}) t(i)) to '{tasks}' (header)")
    import_salesforce(lead, tmp_path / "out", opportunities=opps, tasks=tasks, timezone="UTC")
    deals = con.execute(f"select deal_id from read_csv('{tmp_path / 'out' / 'deals.csv'}')").fetchall()
    assert [d for (d,) in deals] == [f"OPP-{i}" for i in range(1, n + 1)]
    activities = con.execute(f"select activity_id, contact_id from read_csv('{tmp_path / 'out' / 'activities.csv'}')").fetchall()
    assert activities == [(f"task-{i}", "00Q1" if i == 1 else f"00QW{i}") for i in range(1, n + 1)]


def test_a_file_two_tables_of_a_mapping_read_is_read_once_and_its_notes_said_once(tmp_path):
    """The usual mapping takes contacts and their stage dates from one people file (as the
    fixture's does): the file was read once per table, twice the time and memory for a large
    export, and its note of blank rows was said twice."""
    import shutil

    for f in (EXPORTS / "csv").iterdir():
        shutil.copy(f, tmp_path / f.name)
    with (tmp_path / "people.csv").open("a") as people:
        people.write(";;;;;;\n")
    imported = import_csv(tmp_path / "mapping.yaml", tmp_path / "out")
    blank = "note: people.csv: left out 1 row with every value blank (as a spreadsheet saves after the data)"
    assert imported.notes.count(blank) == 1
    fixture = import_csv(EXPORTS / "csv" / "mapping.yaml", tmp_path / "fixture")
    assert imported.rows == fixture.rows
    for table in imported.rows:
        assert (tmp_path / "out" / f"{table}.csv").read_bytes() == (tmp_path / "fixture" / f"{table}.csv").read_bytes()


def test_a_warning_on_a_column_two_tables_of_a_mapping_read_is_said_once_per_file(tmp_path):
    """contacts and lifecycle_events both read people.csv's Signed up: its warning was said
    once per table. Read with another filter, or from another file of the same name, the
    warning is another one: each is said."""
    (tmp_path / "people").mkdir()
    for folder in (tmp_path, tmp_path / "people"):
        (folder / "people.csv").write_text((CSV / "people.csv").read_text())
    mapping = tmp_path / "crm.yaml"
    signed_up = ("warning: people.csv Signed up: {} without an offset read as UTC; if the export writes local "
                 "times (a CRM's UI exports write the user's zone), set timezone: <the export's zone> in the mapping")

    def warnings(lifecycle_events: str) -> list[str]:
        mapping.write_text(PEOPLE.replace("lifecycle_events: {file: people.csv,", lifecycle_events))
        return [n for n in import_csv(mapping, tmp_path / "out").notes if "Signed up" in n]

    assert warnings("lifecycle_events: {file: people.csv,") == [signed_up.format("3 times")]
    assert warnings("lifecycle_events: {skip_rows: {column: Person ID, values: [P-1]}, file: people.csv,") == [
        signed_up.format("3 times"), signed_up.format("2 times")]
    assert warnings("lifecycle_events: {file: people/people.csv,") == [signed_up.format("3 times")] * 2


def test_an_import_s_connection_holds_to_the_memory_limit(tmp_path, monkeypatch):
    """FUNNELPACT_DUCKDB_MEMORY_LIMIT capped the warehouse and dbt, but an import opened its own
    DuckDB without it: a 1M-contact HubSpot export peaked at DuckDB's default (80 % of the
    machine) however low the limit was set."""
    from pipelines.data.importers.common import Job
    from pipelines.warehouse.memory_limit import ENV_VAR

    monkeypatch.setenv(ENV_VAR, "300MB")
    with Job(tmp_path / "out", ["contacts"], []) as job:
        assert job.con.execute("select current_setting('memory_limit')").fetchone()[0] == "286.1 MiB"


def test_an_export_is_read_for_the_columns_the_import_reads_only(tmp_path):
    """A portal's HubSpot export holds hundreds of properties, and every one was read into
    memory as text: 1M contacts with 216 columns took 2.9 GB and most of the import's time,
    for the 16 the import reads."""
    from pipelines.data.importers.common import Job
    from pipelines.data.importers.hubspot import CONTACT_COLUMNS, stage_of_column
    from pipelines.data.importers.output import Input
    from pipelines.data.importers.times import Times

    export = tmp_path / "contacts.csv"
    junk = [f"Property {k}" for k in range(40)]
    export.write_text(",".join(["Record ID", "Email", "Create Date", *junk, "Became a Lead Date", "Job Title"]) + "\n"
                      + ",".join(["1", "a@example.com", "2026-01-05 10:00", *("x" * len(junk)), "2026-01-05 10:00",
                                  "VP Sales"]) + "\n")
    with Job(tmp_path / "out", ["contacts"], []) as job:
        c = job.export(Input(export, "--contacts"), "hs_contacts", Times(), CONTACT_COLUMNS,
                       lambda column: stage_of_column(column) is not None)
        held = [name for (name,) in job.con.execute("select column_name from (describe hs_contacts)").fetchall()]
        assert held == ["Record ID", "Create Date", "Became a Lead Date", "Job Title"]
        assert c.names[:3] == ["Record ID", "Email", "Create Date"]  # all of them, for messages
    import_hubspot(export, tmp_path / "out", timezone="UTC")
    assert read(tmp_path / "out", "contacts") == [("1", "2026-01-05T10:00:00Z", None, None, "vp", None)]


def test_a_row_with_values_only_in_columns_the_import_does_not_read_is_kept_not_left_out_as_blank(tmp_path):
    """Read for a few columns, a row blank in those is not blank: it stays for the loader to
    judge (a contact without an id, quarantined), and only a row blank in every column of the
    file is left out as a spreadsheet's empty row."""
    export = tmp_path / "contacts.csv"
    export.write_text("Record ID,Create Date,Became a Lead Date,Email\n1,2026-01-05 10:00,2026-01-05 10:00,\n"
                      ",,,b@example.com\n,,,\n")
    imported = import_hubspot(export, tmp_path / "out", timezone="UTC")
    assert imported.rows == {"contacts": 2, "lifecycle_events": 1}
    assert read(tmp_path / "out", "contacts")[1] == (None,) * 6
    assert "note: contacts.csv: left out 1 row with every value blank (as a spreadsheet saves after the data)" in imported.notes


def test_an_import_spills_what_exceeds_the_memory_limit_into_its_output_not_the_current_folder(
        tmp_path, monkeypatch):
    """Under FUNNELPACT_DUCKDB_MEMORY_LIMIT DuckDB spilled to `.tmp` in the current folder:
    where that was not writable (a file of that name here), the import failed saying the export
    could not be read."""
    from pipelines.warehouse.memory_limit import ENV_VAR

    export = tmp_path / "contacts.csv"
    duckdb.connect().execute(f"""copy (select i as "Record ID", '2026-01-05 10:00' as "Create Date",
        '2026-01-05 10:00' as "Became a Lead Date", md5(i::varchar) as "Job Title" from range(200000) t(i))
        to '{export}' (header)""")
    here = tmp_path / "here"
    here.mkdir()
    (here / ".tmp").write_text("")
    monkeypatch.chdir(here)
    monkeypatch.setenv(ENV_VAR, "64MB")
    imported = import_hubspot(export, tmp_path / "out", timezone="UTC")
    assert imported.rows == {"contacts": 200000, "lifecycle_events": 200000}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["contacts.csv", "lifecycle_events.csv"]


def test_the_default_formats_tried_by_the_shape_of_a_value_read_what_trying_each_in_turn_reads() -> None:
    """Without a format, a value is tried against the ISO or the US formats, told by a '/'
    (a try_strptime that fails is slow): each reads as the first of all the formats that
    reads it, as before, and a date-only value is one a date-only format reads."""
    from pipelines.data.importers.times import DEFAULT_FORMATS, FIRST_YEAR, TWO_DIGIT_YEAR_FORMATS, Times
    from pipelines.data.parsing import DATE, NAIVE

    moments = [datetime(2026, 1, 5, 9, 15, 7, 500000), datetime(2024, 12, 31, 23, 59), datetime(1999, 7, 4, 0, 0)]
    values = {m.strftime(f) for m in moments for f in DEFAULT_FORMATS + TWO_DIGIT_YEAR_FORMATS}
    values |= {v.lstrip("0") for v in values} | {v + "Z" for v in values} | {v + "+02:00" for v in values}
    values |= {"0026-01-05 10:00", "13/01/2026", "2026/01/05", "1/5/26, 9:15 PM", "a/b", "/", "", "05-01-2026 10:00"}
    con = duckdb.connect()
    con.execute("create table t (v varchar)")
    con.executemany("insert into t values (?)", [[v] for v in sorted(values)])

    def listed(formats):
        return "[" + ", ".join(f"'{f}'" for f in formats) + "]"

    every = f"try_strptime(v, {listed(DEFAULT_FORMATS)})"
    in_turn = (f"coalesce(case when year({every}) >= {FIRST_YEAR} then {every} end, "
               f"try_strptime(v, {listed(TWO_DIGIT_YEAR_FORMATS)}), "
               f"case when regexp_full_match(v, '{NAIVE}') then try_cast(v as timestamp) end)")
    date_only = f"coalesce(regexp_full_match(v, '{DATE}') or try_strptime(v, ['%Y-%m-%d', '%m/%d/%Y']) is not null, false)"
    times = Times()
    read, dates, differ = con.execute(
        f"select count({in_turn}), count(*) filter (where {date_only}), "
        f"count(*) filter (where {in_turn} is distinct from {times.local('v')} "
        f"or {date_only} <> {times.date_only('v')}) from t").fetchone()
    assert read > 100 and dates > 10, (read, dates)  # the sample holds values of every shape
    assert differ == 0
