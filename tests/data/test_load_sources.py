"""Where tables come from (CSV, Parquet, folders), time zones, and bad data directories."""

from __future__ import annotations

import datetime as dt
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.data.load import load_data_dir
from pipelines.errors import InputError

from .helpers import STAGE_VALUES, rows, write_dir


def test_offsets_are_converted_to_utc_and_naive_times_are_utc(load):
    _, con = load(contacts="""\
        contact_id,created_at,source,persona,seniority,country
        C1,2026-01-05T10:00:00+02:00,,,,
        C2,2026-01-05T10:00:00-06:00,,,,
        C3,2026-01-05T10:00:00Z,,,,
        C4,2026-01-05 10:00:00,,,,
        C5,2026-01-05T10:00:00.250-0530,,,,
        C6,2026-01-05,,,,
        C7,2026-01-05T23:30:00-03:00,,,,
        """, lifecycle_events="contact_id,stage,occurred_at,reason\n")
    assert rows(con, "select contact_id, created_at from raw.contacts order by 1") == [
        ("C1", dt.datetime(2026, 1, 5, 8, 0)),
        ("C2", dt.datetime(2026, 1, 5, 16, 0)),
        ("C3", dt.datetime(2026, 1, 5, 10, 0)),
        ("C4", dt.datetime(2026, 1, 5, 10, 0)),
        ("C5", dt.datetime(2026, 1, 5, 15, 30, 0, 250000)),
        ("C6", dt.datetime(2026, 1, 5, 0, 0)),
        ("C7", dt.datetime(2026, 1, 6, 2, 30)),  # the UTC day differs from the local one
    ]
    assert rows(con, "select data_type from information_schema.columns where "
                     "table_schema = 'raw' and table_name = 'contacts' and "
                     "column_name = 'created_at'") == [("TIMESTAMP",)]


@pytest.mark.parametrize("text, utc", [
    ("2026-01-01T10:00:00+14:00", dt.datetime(2025, 12, 31, 20, 0)),
    ("2026-01-01T10:00:00-12:00", dt.datetime(2026, 1, 1, 22, 0)),
    ("2026-01-01T10:00:00+05:45", dt.datetime(2026, 1, 1, 4, 15)),
    ("2026-01-01T10:00:00+0530", dt.datetime(2026, 1, 1, 4, 30)),
    ("9999-12-31T23:59:59Z", dt.datetime(9999, 12, 31, 23, 59, 59)),
    ("0001-01-01T00:00:00", dt.datetime(1, 1, 1)),
    ("2026-01-01T10:00+99:00", None),    # DuckDB: 2025-12-28 07:00
    ("2026-01-01T10:00+14:30", None),
    ("2026-01-01T10:00+05:60", None),
    ("9999-12-31T23:00:00-05:00", None),  # DuckDB: the year 10000
    ("9999-12-31T24:00:00", None),
    ("0001-01-01T00:00:00+01:00", None),  # DuckDB: 1 BC
    ("0000-01-01", None),
    ("2026-01-01T10:00:00z", None),       # DuckDB refuses 'z': so does the pattern
    ("2026-01-01 10:00:00 UTC", dt.datetime(2026, 1, 1, 10, 0)),
    ("2026-01-01T10:00:00UTC", None),      # documented as an offset, but DuckDB reads ' UTC' only
    ("2026-01-01T10:00:00 Z", None),
])
def test_an_offset_is_at_most_14_hours_and_the_instant_in_years_1_to_9999(load, text, utc):
    report, con = load(contacts=f"contact_id,created_at,source,persona,seniority,country\nC1,{text},,,,\n",
                       lifecycle_events="contact_id,stage,occurred_at,reason\n")
    assert rows(con, "select created_at from raw.contacts") == ([(utc,)] if utc else [])
    assert report.by_reason == ({} if utc else {"bad_timestamp:created_at": 1})


def test_the_connection_time_zone_does_not_change_the_result(tmp_path, con):
    # DuckDB reads naive text cast to TIMESTAMPTZ in the session's zone: the loader must not.
    con.execute("set TimeZone = 'Asia/Tokyo'")
    data = write_dir(tmp_path / "d", contacts="""\
        contact_id,created_at,source,persona,seniority,country
        C1,2026-01-05T10:00:00+02:00,,,,
        C2,2026-01-05 10:00:00,,,,
        """)
    load_data_dir(data, con, STAGE_VALUES)
    assert rows(con, "select created_at from raw.contacts order by 1") == [
        (dt.datetime(2026, 1, 5, 8, 0),), (dt.datetime(2026, 1, 5, 10, 0),)]


def test_parquet_file_and_folder_of_parts_with_typed_columns(tmp_path, con):
    data = write_dir(tmp_path / "d", contacts=None)
    contacts = pa.table({
        "contact_id": ["C1", "C2"],
        "created_at": pa.array([dt.datetime(2026, 1, 5, 10, tzinfo=dt.timezone(dt.timedelta(hours=2))),
                                dt.datetime(2026, 1, 6, 11, tzinfo=dt.timezone.utc)],
                               pa.timestamp("us", tz="UTC")),
        "source": ["organic", None],
    })
    pq.write_table(contacts, data / "contacts.parquet")
    (data / "web_sessions").mkdir()
    sessions = pa.table({"date": pa.array([dt.date(2026, 1, 1)]), "channel": ["organic"],
                         "sessions": pa.array([10], pa.int64())})
    pq.write_table(sessions, data / "web_sessions" / "part-0.parquet")
    pq.write_table(pa.table({"date": pa.array([dt.date(2026, 1, 2), dt.date(2026, 1, 3)]),
                             "channel": ["organic", "paid"],
                             "sessions": pa.array([-1, 7], pa.int64())}),
                   data / "web_sessions" / "part-1.parquet")
    # The session's time zone must not leak into typed timestamps.
    con.execute("set TimeZone = 'America/Mexico_City'")
    report = load_data_dir(data, con, STAGE_VALUES)
    assert rows(con, "select contact_id, created_at, persona from raw.contacts order by 1") == [
        ("C1", dt.datetime(2026, 1, 5, 8, 0), None), ("C2", dt.datetime(2026, 1, 6, 11, 0), None)]
    assert rows(con, "select sum(sessions) from raw.web_sessions") == [(17,)]
    assert rows(con, "select source_file, row_number, reason from raw.quarantine") == [
        ("web_sessions/part-1.parquet", 1, "negative_sessions")]
    assert report.tables["web_sessions"].rows_read == 3


def test_absent_optional_tables_are_created_empty_and_reported_absent(load):
    report, con = load()
    for name in ("activities", "deals", "web_sessions"):
        assert rows(con, f"select count(*) from raw.{name}") == [(0,)]
        assert report.tables[name].present is False
    assert rows(con, "select table_name, present from raw.load_report order by 1") == [
        ("activities", False), ("contacts", True), ("deals", False),
        ("lifecycle_events", True), ("web_sessions", False)]
    assert rows(con, "select column_name, data_type from information_schema.columns where "
                     "table_schema = 'raw' and table_name = 'deals' order by ordinal_position") == [
        ("deal_id", "VARCHAR"), ("contact_id", "VARCHAR"), ("created_at", "TIMESTAMP"),
        ("closed_at", "TIMESTAMP"), ("status", "VARCHAR"), ("amount", "DECIMAL(26,6)"),
        ("currency", "VARCHAR")]


def test_a_header_only_file_is_a_present_empty_table(load):
    report, con = load(activities="activity_id,contact_id,occurred_at,team,type\n")
    assert report.tables["activities"].present is True
    assert report.tables["activities"].rows_read == 0


def test_column_names_are_matched_ignoring_case_and_extra_columns_ignored(load):
    _, con = load(contacts="""\
        Contact_ID,CREATED_AT,email
        C1,2026-01-05T10:00:00Z,a@example.com
        C2,2026-01-05T10:00:00Z,b@example.com
        """)
    assert rows(con, "select contact_id, source from raw.contacts order by 1") == [
        ("C1", None), ("C2", None)]


def refused(data, con=None):
    """The one problem a load of the data directory `data` is refused with."""
    import duckdb

    with pytest.raises(InputError) as exc:
        load_data_dir(data, con or duckdb.connect(), STAGE_VALUES)
    [problem] = exc.value.problems
    return problem


def problems(tmp_path, **tables) -> list[str]:
    data = write_dir(tmp_path / "d", **tables)
    import duckdb

    with pytest.raises(InputError) as exc:
        load_data_dir(data, duckdb.connect(), STAGE_VALUES)
    return [str(p) for p in exc.value.problems]


def test_missing_required_tables_are_named_with_what_is_expected(tmp_path):
    found = problems(tmp_path, contacts=None, lifecycle_events=None)
    assert len(found) == 2
    assert "required table 'contacts' not found" in found[0]
    assert "contacts.csv, contacts.parquet or a folder contacts/" in found[0]
    assert "required table 'lifecycle_events' not found" in found[1]


def test_a_missing_required_column_names_the_file_and_column(tmp_path):
    found = problems(tmp_path, deals="deal_id,created_at,status\nD1,2026-01-01,open\n")
    assert len(found) == 1
    assert found[0].startswith(str(tmp_path / "d" / "deals.csv") + " amount: ")
    assert "missing required column 'amount'" in found[0]
    assert "deal_id, created_at, status, amount" in found[0]


def test_a_column_name_with_an_invisible_character_is_listed_so_that_it_shows(tmp_path):
    """A file given a byte-order mark twice (one tool adds one before another does) starts
    its first name with U+FEFF: listed as written, 'contact_id' was missing from a list that
    read 'found: contact_id, …'."""
    found = problems(tmp_path, contacts="\ufeff\ufeffcontact_id,created_at\nC1,2026-01-05T10:00:00Z\n")
    assert len(found) == 1
    assert "missing required column 'contact_id'" in found[0]
    assert found[0].endswith(r"(found: '\ufeffcontact_id', created_at)"), found[0]


def test_a_path_that_is_not_utf8_is_named_as_such(tmp_path):
    """A folder or a Parquet part named in Latin-1 (os.fsdecode keeps the byte as a surrogate):
    DuckDB opens only UTF-8 paths, and each table was refused as a CSV that is not UTF-8."""
    import os

    import duckdb

    latin1 = tmp_path / os.fsdecode(b"d\xe9")
    write_dir(latin1)
    with pytest.raises(InputError) as exc:
        load_data_dir(latin1, duckdb.connect(), STAGE_VALUES)
    assert str(exc.value) == (f"{str(latin1)!r}: the path is not UTF-8 text, and DuckDB opens only UTF-8 paths: "
                              "expected a data directory whose path is UTF-8 (rename it, or link it under a UTF-8 name)")

    data = write_dir(tmp_path / "d", contacts=None)
    (data / "contacts").mkdir()
    part = data / "contacts" / os.fsdecode(b"part-\xe9.parquet")
    duckdb.sql("select 'C1' as contact_id, '2026-01-05T10:00:00Z' as created_at").write_parquet(str(data / "p.parquet"))
    os.rename(data / "p.parquet", part)
    with pytest.raises(InputError) as exc:
        load_data_dir(data, duckdb.connect(), STAGE_VALUES)
    assert str(exc.value).startswith(f"{str(part)!r}: the path is not UTF-8 text"), str(exc.value)


def assert_refused_as_unreadable(data, named) -> None:
    """The load fails as bad input naming `named`, and writes nothing."""
    import duckdb

    con = duckdb.connect()
    with pytest.raises(InputError) as exc:
        load_data_dir(data, con, STAGE_VALUES)
    assert str(named) in str(exc.value)
    assert "cannot read the file; expected Parquet" in str(exc.value)
    assert rows(con, "select count(*) from information_schema.tables where table_schema = 'raw'") == [(0,)]


def test_an_unreadable_file_is_named(tmp_path):
    data = write_dir(tmp_path / "d", contacts=None)
    (data / "contacts.parquet").write_bytes(b"this is not parquet")
    assert_refused_as_unreadable(data, data / "contacts.parquet")


NOON = dt.datetime(2026, 1, 1, 12, 0)


@pytest.mark.parametrize("first, second, column, message", [
    # Cast to the first part's type in the session's zone: 12:00 became 06:00 in Mexico City.
    ({"created_at": pa.array([NOON], pa.timestamp("us", tz="UTC"))},
     {"created_at": pa.array([NOON], pa.timestamp("us"))}, "created_at",
     "column 'created_at' is TIMESTAMP (naive time), but time with a zone in the other parts"),
    ({"created_at": ["2026-01-01"]}, {"created_at": pa.array([1767268800], pa.int64())}, "created_at",
     "column 'created_at' is BIGINT (number), but text in the other parts"),
    ({"created_at": ["2026-01-01"], "seniority": pa.array([3], pa.int64())},
     {"created_at": ["2026-01-02"], "seniority": ["vp"]}, "seniority",
     "column 'seniority' is VARCHAR (text), but number in the other parts"),
    ({"created_at": ["2026-01-01"]}, {"created_at": ["2026-01-02"], "country": ["MX"]}, "country",
     "column 'country' (VARCHAR) is not in the other parts"),
    ({"created_at": ["2026-01-01"], "country": ["MX"]}, {"created_at": ["2026-01-02"]}, "country",
     "column 'country' is missing, but it is in the other parts"),
], ids=["naive after a time zone", "epoch numbers in a later part", "text after numbers",
        "a column added", "a column dropped"])
def test_parts_of_a_folder_that_disagree_are_named_and_nothing_is_written(tmp_path, first, second,
                                                                         column, message):
    import duckdb

    data = write_dir(tmp_path / "d", contacts=None)
    (data / "contacts").mkdir()
    pq.write_table(pa.table({"contact_id": ["C1"], **first}), data / "contacts" / "part-1.parquet")
    pq.write_table(pa.table({"contact_id": ["C2"], **second}), data / "contacts" / "part-2.parquet")
    con = duckdb.connect()
    con.execute("set TimeZone = 'America/Mexico_City'")
    problem = refused(data, con)
    assert (problem.file, problem.field) == (str(data / "contacts" / "part-2.parquet"), column)
    assert problem.message.startswith(message + ": expected every part of contacts/ to have the same columns")
    assert rows(con, "select count(*) from information_schema.tables where table_schema = 'raw'") == [(0,)]
    assert rows(con, "select current_setting('TimeZone')") == [("America/Mexico_City",)], "restored on refusal"


def test_parts_may_differ_in_other_columns_and_in_the_case_and_order_of_names(tmp_path, con):
    data = write_dir(tmp_path / "d", contacts=None)
    (data / "contacts").mkdir()
    pq.write_table(pa.table({"contact_id": ["C1"], "created_at": ["2026-01-05T10:00:00Z"], "email": ["a@x"],
                             "tags": pa.array([{"a": 1}])}), data / "contacts" / "part-1.parquet")
    pq.write_table(pa.table({"Created_At": ["2026-01-06T11:00:00Z"], "CONTACT_ID": ["C2"]}),
                   data / "contacts" / "part-2.parquet")
    report = load_data_dir(data, con, STAGE_VALUES)
    assert rows(con, "select contact_id, created_at from raw.contacts order by 1") == [
        ("C1", dt.datetime(2026, 1, 5, 10)), ("C2", dt.datetime(2026, 1, 6, 11))]
    assert report.quarantined_rows == 0


def test_the_load_runs_in_utc_and_gives_the_session_its_zone_back(tmp_path, con):
    # Typed parts with a time zone, and offsets in text, in a session far from UTC.
    data = write_dir(tmp_path / "d", contacts=None)
    (data / "contacts").mkdir()
    for i, hour in enumerate((12, 23)):
        pq.write_table(pa.table({"contact_id": [f"C{i}"],
                                 "created_at": pa.array([NOON.replace(hour=hour)], pa.timestamp("us", tz="UTC"))}),
                       data / "contacts" / f"part-{i}.parquet")
    con.execute("set TimeZone = 'America/Mexico_City'")
    load_data_dir(data, con, STAGE_VALUES)
    assert rows(con, "select contact_id, created_at from raw.contacts order by 1") == [
        ("C0", NOON), ("C1", NOON.replace(hour=23))]
    assert rows(con, "select current_setting('TimeZone')") == [("America/Mexico_City",)]


def test_a_parquet_file_broken_past_its_footer_is_named_and_nothing_is_written(tmp_path):
    # Parquet is read in place, so a damaged data page only shows while reading the rows.
    data = write_dir(tmp_path / "d", contacts=None)
    ids = [f"C{i}" for i in range(20_000)]
    pq.write_table(pa.table({"contact_id": ids, "created_at": ["2026-01-01"] * len(ids)}),
                   data / "contacts.parquet", compression="zstd")
    damaged = bytearray((data / "contacts.parquet").read_bytes())
    for i in range(200, len(damaged) // 2, 7):
        damaged[i] = (damaged[i] + 13) % 256
    (data / "contacts.parquet").write_bytes(bytes(damaged))
    assert_refused_as_unreadable(data, data / "contacts.parquet")


def test_a_part_broken_past_its_footer_is_named_among_the_parts_of_its_folder(tmp_path):
    """DuckDB's error for a damaged data page ("Variable-length int over 10 bytes.") names no
    file: the load named the folder, leaving a daily export's ninety parts to search."""
    import duckdb

    data = write_dir(tmp_path / "d", contacts=None)
    (data / "contacts").mkdir()
    for day in range(1, 4):
        ids = [f"C{day}-{i}" for i in range(2_000)]
        pq.write_table(pa.table({"contact_id": ids, "created_at": [f"2026-01-0{day}"] * len(ids)}),
                       data / "contacts" / f"2026-01-0{day}.parquet")
    broken = data / "contacts" / "2026-01-02.parquet"
    damaged = bytearray(broken.read_bytes())
    for i in range(8, 200):
        damaged[i] = 0xFF
    broken.write_bytes(bytes(damaged))
    con = duckdb.connect()
    problem = refused(data, con)
    assert problem.file == str(broken)
    assert problem.message.startswith("cannot read the file; expected Parquet: "), problem.message
    assert rows(con, "select count(*) from information_schema.tables where table_schema = 'raw'") == [(0,)]


def test_a_parquet_file_whose_arrow_schema_entry_is_damaged_is_read_as_duckdb_reads_it(tmp_path, con):
    """The footer's ARROW:schema entry is pyarrow's, not Parquet's: DuckDB reads the file
    without it. The check for repeated columns read the schema with pyarrow, which refused
    the entry with a traceback (ArrowInvalid: Invalid base64 input)."""
    data = write_dir(tmp_path / "d", contacts=None)
    pq.write_table(pa.table({"contact_id": ["C1", "C2"], "created_at": ["2026-01-05", "2026-01-06"]}),
                   data / "contacts.parquet")
    written = (data / "contacts.parquet").read_bytes()
    entry = written.index(b"ARROW:schema") + len(b"ARROW:schema") + 8  # inside the base64 value
    (data / "contacts.parquet").write_bytes(written[:entry] + b"!" + written[entry + 1:])
    report = load_data_dir(data, con, STAGE_VALUES)
    assert (report.tables["contacts"].rows_read, report.tables["contacts"].rows_loaded) == (2, 2)


@pytest.mark.parametrize("kind, extra", [("csv", "rowid"), ("csv", "RowID"), ("parquet", "filename"),
                                         ("parquet", "rowid")])
def test_an_extra_column_named_as_the_loaders_own_columns_is_ignored_as_any_other(tmp_path, con, kind, extra):
    """A CSV's 'rowid' hid the row numbers the loader reads (a Binder Error, a traceback); a
    Parquet file's 'filename' clashed with read_parquet's (refused as no Parquet)."""
    data = write_dir(tmp_path / "d", contacts=None)
    table = {"contact_id": ["C1", "C2", "C3"], "created_at": ["2026-01-05", "not a date", "2026-01-07"],
             extra: ["7", "7", "x"]}
    if kind == "csv":
        (data / "contacts.csv").write_text(
            ",".join(table) + "\n" + "".join(",".join(row) + "\n" for row in zip(*table.values())))
    else:
        pq.write_table(pa.table(table), data / "contacts.parquet")
    report = load_data_dir(data, con, STAGE_VALUES)
    assert (report.tables["contacts"].rows_read, report.tables["contacts"].rows_loaded) == (3, 2)
    assert rows(con, "select row_number, reason from raw.quarantine where table_name = 'contacts'") == [
        (2, "bad_timestamp:created_at")]


@pytest.mark.parametrize("column, what", [("File_Row_Number", "row numbers"), ("_FP_file", "file names")])
def test_a_parquet_column_named_as_read_parquet_s_row_numbers_or_file_names_is_named(tmp_path, column, what):
    """The file names' column was DuckDB's own "Binder Error: … duplicate column name", exit 2."""
    data = write_dir(tmp_path / "d", contacts=None)
    pq.write_table(pa.table({"contact_id": ["C1"], "created_at": ["2026-01-05"], column: [5]}),
                   data / "contacts.parquet")
    [problem] = problems(tmp_path, contacts=None)
    assert problem == (f"{data / 'contacts.parquet'} {column}: column '{column}' has the name of "
                       f"the {what} the loader reads each Parquet file with: expected no column of that "
                       "name (it is no column of the table: drop or rename it)")


def test_a_table_given_twice_is_refused(tmp_path):
    data = write_dir(tmp_path / "d")
    (data / "contacts").mkdir()
    found = problems(tmp_path)
    assert "table 'contacts' is given more than once (contacts.csv, contacts/)" in found[0]


def test_a_folder_named_table_parquet_is_read_as_the_parts_spark_writes(tmp_path, con):
    """`df.write.parquet("deals.parquet")` writes a folder of parts beside Spark's own files
    (_SUCCESS, a hidden .crc per part): read as a folder deals/ is."""
    data = write_dir(tmp_path / "d")
    folder = data / "deals.parquet"
    folder.mkdir()
    for i, amount in enumerate(["10", "-1"]):
        part = folder / f"part-0000{i}-1b2c-c000.snappy.parquet"
        pq.write_table(pa.table({"deal_id": [f"D{i}"], "created_at": ["2026-01-05"], "status": ["open"],
                                 "amount": [amount]}), part)
        (folder / f".{part.name}.crc").write_bytes(b"crc")
    (folder / "_SUCCESS").write_text("")
    report = load_data_dir(data, con, STAGE_VALUES)
    assert (report.tables["deals"].rows_read, report.tables["deals"].rows_loaded) == (2, 1)
    assert rows(con, "select source_file, row_number, reason from raw.quarantine where table_name = 'deals'") == [
        ("deals.parquet/part-00001-1b2c-c000.snappy.parquet", 1, "negative_amount")]


DEALS = "deal_id,created_at,status,amount\nD1,2026-01-05,open,10\n"


@pytest.mark.parametrize("name, rename", [
    ("deals.CSV", "rename it deals.csv"), ("Deals.csv", "rename it deals.csv"),
    ("DEALS.parquet", "rename it deals.parquet"), ("Deals", "rename it deals/"),
    ("deals.csv.gz", "is a compressed CSV, which the load does not read: expected deals.csv (decompress it)"),
])
@pytest.mark.parametrize("beside", [False, True], ids=["alone", "beside deals.csv"])
def test_a_table_named_but_for_its_case_or_compression_is_refused_not_left_out(tmp_path, con, name, rename,
                                                                                beside):
    """The load looks up deals.csv, deals.parquet and deals/ by their exact names: a deals.CSV
    (or Deals/, deals.csv.gz) was no table, and deals' KPIs no_data without a word; beside
    deals.csv it was a second source of the table, left unread."""
    import gzip

    data = write_dir(tmp_path / "d")
    if name == "Deals":
        (data / name).mkdir()
        pq.write_table(pa.table({"deal_id": ["D1"]}), data / name / "part-0.parquet")
    elif name.endswith(".parquet"):
        pq.write_table(pa.table({"deal_id": ["D1"]}), data / name)
    else:
        (data / name).write_bytes(gzip.compress(DEALS.encode()) if name.endswith(".gz") else DEALS.encode())
    if beside:
        (data / "deals.csv").write_text(DEALS)
    problem = refused(data, con)
    assert problem.file == str(data / name)
    assert problem.message.startswith(rename if name.endswith(".gz") else (
        "is named like the 'deals' table, which the load reads only from deals.csv, deals.parquet or a folder "
        "deals/, named in lower case")), problem.message
    assert problem.message.endswith("; the table is also given as deals.csv: keep exactly one source of the table"
                                    if beside else rename), problem.message
    assert rows(con, "select count(*) from information_schema.tables where table_schema = 'raw'") == [(0,)]


@pytest.mark.parametrize("name, kind", [("deals.xlsx", "an Excel workbook"), ("Deals.TSV", "a tab-separated file"),
                                        ("deals.json", "a JSON file")])
def test_a_table_given_only_in_a_format_the_load_does_not_read_is_refused_not_absent(tmp_path, con, name, kind):
    """deals.xlsx, the report as the CRM exported it: deals was absent, its KPIs no_data
    without a word."""
    data = write_dir(tmp_path / "d")
    (data / name).write_bytes(b"PK\x03\x04 a workbook")
    problem = refused(data, con)
    assert problem.file == str(data / name)
    assert problem.message == (f"is {kind}, which the load does not read, and the 'deals' table is given in no form "
                               "it reads: expected deals.csv (UTF-8 CSV with a header row), deals.parquet or a "
                               "folder deals/ of Parquet parts (export or convert the table to one of them)")


def test_the_export_a_table_was_converted_from_may_stay_beside_it(tmp_path, con):
    data = write_dir(tmp_path / "d")
    (data / "deals.csv").write_text(DEALS)
    (data / "deals.xlsx").write_bytes(b"PK\x03\x04 the export it was converted from")
    (data / "deals.csv.bak").write_text(DEALS)
    report = load_data_dir(data, con, STAGE_VALUES)
    assert report.tables["deals"].rows_loaded == 1


def test_a_backup_of_an_absent_table_is_no_table(tmp_path, con):
    data = write_dir(tmp_path / "d")
    (data / "deals.csv.bak").write_text(DEALS)
    report = load_data_dir(data, con, STAGE_VALUES)
    assert report.tables["deals"].present is False


def test_a_required_table_named_in_another_case_is_named_not_missing(tmp_path):
    data = write_dir(tmp_path / "d")
    (data / "contacts.csv").rename(data / "Contacts.csv")
    [problem] = problems(tmp_path, contacts=None)
    assert problem.startswith(f"{data / 'Contacts.csv'}: is named like the 'contacts' table"), problem
    assert problem.endswith(": rename it contacts.csv")


@pytest.mark.parametrize("part, expected", [
    ("part-00000.csv", "a folder of CSV parts, as Spark writes a table, is not read: join the parts into one "
                       "file deals.csv with the header row once, or write the table as Parquet parts in a "
                       "folder deals/ or deals.parquet/"),
    ("part-00000.parquet", "rename the folder to deals/ or deals.parquet/, as a folder of Parquet parts is named"),
], ids=["of CSV parts", "of Parquet parts"])
def test_a_folder_named_table_csv_is_refused_saying_what_a_table_in_csv_is(tmp_path, con, part, expected):
    """A folder deals.csv/ of CSV parts (Spark's `df.write.csv("deals.csv")`, each part without a
    header row unless told) was refused as holding no Parquet parts, telling the user to give
    the table as deals.csv, which it was named; one of Parquet parts was read under a name that
    says CSV."""
    data = write_dir(tmp_path / "d")
    (data / "deals.csv").mkdir()
    if part.endswith(".csv"):
        (data / "deals.csv" / part).write_text("deal_id,created_at,status,amount\nD1,2026-01-05,open,10\n")
    else:
        pq.write_table(pa.table({"deal_id": ["D1"], "created_at": ["2026-01-05"], "status": ["open"],
                                 "amount": ["10"]}), data / "deals.csv" / part)
    (data / "deals.csv" / "_SUCCESS").write_text("")
    problem = refused(data, con)
    assert problem.file == str(data / "deals.csv")
    assert problem.message.startswith("is a folder"), problem.message
    assert f"expected deals.csv to be one UTF-8 CSV file with a header row ({expected})" in problem.message
    assert rows(con, "select count(*) from information_schema.tables where table_schema = 'raw'") == [(0,)]


@pytest.mark.parametrize("where", ["part-1.csv", "2026-01-02.CSV", "part-1.csv.gz", "dt=2026-01-02/part-0.csv"])
def test_csv_parts_in_a_tables_folder_are_refused_not_skipped(tmp_path, con, where):
    # A daily CSV part landed beside the Parquet parts was silently left out: its contacts
    # were missing from every run, and their events quarantined as unknown_contact.
    data = write_dir(tmp_path / "d", contacts=None)
    (data / "contacts").mkdir()
    pq.write_table(pa.table({"contact_id": ["C1"], "created_at": ["2026-01-01T00:00:00Z"]}),
                   data / "contacts" / "part-0.parquet")
    (data / "contacts" / where).parent.mkdir(parents=True, exist_ok=True)
    (data / "contacts" / where).write_text("contact_id,created_at\nC2,2026-01-02T00:00:00Z\n")
    # Files that hold no rows of a table are not parts, as before.
    (data / "contacts" / "README.md").write_text("daily exports")
    (data / "contacts" / "manifest.json").write_text("{}")
    problem = refused(data, con)
    assert problem.file == str(data / "contacts")
    assert problem.message.startswith(f"holds table data the load does not read: {where.split('/')[0]}"), problem.message
    assert "contacts.csv" in problem.message, "says how a table is given as CSV"
    assert rows(con, "select count(*) from information_schema.tables where table_schema = 'raw'") == [(0,)]


@pytest.mark.parametrize("where", ["dt=2026-01-02/part-0.parquet", "part-1.PARQUET", "part-1.pq", "part-1.parq"])
def test_parquet_parts_the_load_would_not_read_are_refused_not_skipped(tmp_path, con, where):
    # A day landed in a subfolder (or with an upper-case suffix) was silently left out: its
    # contacts were missing from every run, and the next load saw "no new or changed file".
    data = write_dir(tmp_path / "d", contacts=None)
    (data / "contacts").mkdir()
    part = pa.table({"contact_id": ["C1"], "created_at": ["2026-01-01T00:00:00Z"]})
    pq.write_table(part, data / "contacts" / "part-0.parquet")
    (data / "contacts" / where).parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"contact_id": ["C2"], "created_at": ["2026-01-02T00:00:00Z"]}),
                   data / "contacts" / where)
    # A writer's own files are not parts.
    (data / "contacts" / "_SUCCESS").write_text("")
    (data / "contacts" / ".tmp").mkdir()
    with pytest.raises(InputError) as refused:
        load_data_dir(data, con, STAGE_VALUES)
    message = str(refused.value)
    assert "table data the load does not read" in message and where.split("/")[0] in message
    assert "contacts" in message
    assert rows(con, "select count(*) from information_schema.tables where table_schema = 'raw'") == [(0,)]


@pytest.mark.parametrize("log, what", [("_delta_log", "a Delta Lake table"), (".hoodie", "an Apache Hudi table")])
def test_a_folder_of_a_table_format_is_refused_not_read_with_every_version(tmp_path, con, log, what):
    """A Delta Lake table keeps the Parquet files of its earlier versions until a VACUUM, and
    which are current in _delta_log/, which the load skipped as a writer's own: a deal updated
    from open to won was read in both versions, and both quarantined as conflicting_duplicate_id."""
    data = write_dir(tmp_path / "d")
    (data / "deals" / log).mkdir(parents=True)
    (data / "deals" / log / "00000000000000000001.json").write_text('{"remove": {"path": "part-0.parquet"}}')
    for i, status in enumerate(["open", "won"]):
        pq.write_table(pa.table({"deal_id": ["D1"], "created_at": ["2026-01-05"], "status": [status],
                                 "amount": ["10"]}), data / "deals" / f"part-{i}.parquet")
    problem = refused(data, con)
    assert problem.file == str(data / "deals")
    assert problem.message.startswith(f"is {what} (it holds {log}/): its Parquet files are those of every "
                                      "version of the table"), problem.message
    assert rows(con, "select count(*) from information_schema.tables where table_schema = 'raw'") == [(0,)]


def test_a_writers_own_files_beside_the_parts_are_ignored(tmp_path, con):
    data = write_dir(tmp_path / "d", contacts=None)
    (data / "contacts" / ".staging").mkdir(parents=True)
    pq.write_table(pa.table({"contact_id": ["C1"], "created_at": ["2026-01-01T00:00:00Z"]}),
                   data / "contacts" / "part-0.parquet")
    pq.write_table(pa.table({"contact_id": ["C9"], "created_at": ["2026-01-01T00:00:00Z"]}),
                   data / "contacts" / ".staging" / "part-1.parquet")
    (data / "contacts" / "_SUCCESS").write_text("")
    # A part a writer is still writing under a hidden name, or one of its own: not the table's.
    (data / "contacts" / ".part-2.parquet").write_bytes(b"PAR1 half written")
    pq.write_table(pa.table({"contact_id": ["C8"], "created_at": ["2026-01-01T00:00:00Z"]}),
                   data / "contacts" / "_metadata.parquet")
    load_data_dir(data, con, STAGE_VALUES)
    assert rows(con, "select contact_id from raw.contacts") == [("C1",)]


def test_a_missing_data_directory_is_a_clear_error(tmp_path, con):
    with pytest.raises(InputError, match="data directory not found"):
        load_data_dir(tmp_path / "nope", con, STAGE_VALUES)


def test_a_data_directory_that_is_a_file_is_named_as_one(tmp_path, con):
    # It said "not found" of a file that is there (`--data contacts.csv`, say).
    (tmp_path / "contacts.csv").write_text("contact_id,created_at\n")
    with pytest.raises(InputError, match="data directory is a file, not a folder"):
        load_data_dir(tmp_path / "contacts.csv", con, STAGE_VALUES)


def test_csv_row_numbers_follow_the_file_on_a_parallel_read(tmp_path, con):
    # ~40 MB: more than one of DuckDB's CSV buffers, so the file is read in parallel chunks.
    n = 200_000
    pad = "x" * 150
    lines = ["contact_id,created_at,source,persona,seniority,country"]
    lines += [f"C{i},2026-01-05T10:00:00Z,{pad},,," for i in range(1, n + 1)]
    lines[n // 2] = "C-bad,not a date,,,,"
    lines[n - 1] = ",2026-01-05T10:00:00Z,,,,"
    data = write_dir(tmp_path / "d", lifecycle_events="contact_id,stage,occurred_at,reason\n")
    (data / "contacts.csv").write_text("\n".join(lines) + "\n")
    load_data_dir(data, con, STAGE_VALUES)
    assert rows(con, "select row_number, reason from raw.quarantine order by 1") == [
        (n // 2, "bad_timestamp:created_at"), (n - 1, "missing_required:contact_id")]


CONTACTS = "contact_id,created_at,source\nC1,2026-01-05T10:00:00Z,web\n"


@pytest.mark.parametrize("content, line, message", [
    ((CONTACTS + "C2,2026-01-06T10:00:00Z,web,extra\nC3,2026-01-07T10:00:00Z,web\n").encode(), 3,
     "4 values, expected 3 (one per column of the header)"),
    ((CONTACTS + 'C2,"2026-01-06T10:00:00Z,web\nC3,2026-01-07T10:00:00Z,web\n').encode(), 3,
     "not valid CSV"),
    (CONTACTS.encode() + "C2,2026-01-06T10:00:00Z,café\n".encode("latin-1"), 3,
     "not UTF-8 text"),
    (CONTACTS.encode("utf-16"), 1, "the file is UTF-16 text: expected UTF-8"),
    (CONTACTS.encode("utf-16-le"), 1, "the file is UTF-16 text (without a byte-order mark): expected UTF-8"),
    (CONTACTS.encode("utf-32"), 1, "the file is UTF-32 text: expected UTF-8"),
    # A workbook saved under the table's name: its bytes were "not UTF-8 text" at some line.
    (b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 4, 1,
     "the file is an Excel workbook (.xlsx, a ZIP archive), not CSV: expected UTF-8 CSV"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 4, 1, "an Excel 97-2003 workbook (.xls)"),
    # DuckDB's sniffer took a wider last row for the header, and the rows above for a preamble.
    ((CONTACTS + "".join(f"C{i},2026-01-06T10:00:00Z,web\n" for i in range(50))
      + "CX,2026-01-07T10:00:00Z,web,extra\n").encode(), 53, "4 values, expected 3"),
    (b'contact_id,"created_at\nC1,2026-01-05\n', 1, "not valid CSV"),
    (b"\n", 1, "the file is empty"),
    (b"\xef\xbb\xbf", 1, "the file is empty"),
    # Python's reader refused the field at 128 KiB and blamed an unterminated quote.
    ((CONTACTS + "C2,2026-01-06T10:00:00Z," + "x" * 3_000_000 + "\n").encode(), 3,
     "the line is 3,000,025 bytes long: expected at most 2,000,000"),
    ((CONTACTS + "C2,2026-01-06T10:00:00Z," + "x" * 200_000 + "\nC3,2026-01-07T10:00:00Z,web,extra\n").encode(),
     4, "4 values, expected 3"),
    # DuckDB skipped the blank line and read the header as a header and as a data row too.
    (b"\n" + CONTACTS.encode(), 1, "the line is blank: expected the header row (the column names) on the first line"),
    (b"\xef\xbb\xbf \r\n" + CONTACTS.replace("\n", "\r\n").encode(), 1, "the line is blank"),
    # DuckDB reads one kind of line break per file, and failed naming no line.
    ((CONTACTS.replace("\n", "\r\n") + "C2,2026-01-06T10:00:00Z,web\n").encode(), 3,
     "the line ends with LF (\\n), but line 1 ends with CRLF (\\r\\n, as on Windows): expected the same line break"),
    # A break inside quotes is part of the value, whatever its kind: the row is what is wrong.
    ((CONTACTS + 'C2,2026-01-06T10:00:00Z,"a\r\nb"\nC3,2026-01-07T10:00:00Z,web,extra\n').encode(), 5,
     "4 values, expected 3"),
    # DuckDB's sniffer took '#' for a comment character: the line was skipped, and with it every
    # row whose id starts with '#', and each unquoted value was cut at its '#', without a word.
    ((CONTACTS + "# exported 2026-11-01\n#C2,2026-01-06T10:00:00Z,web # form\n").encode(), 3,
     "1 value, expected 3"),
    # Excel's delimiter hint above the header: it read as a header of two columns, and the
    # message named line 2's "3 values, expected 2".
    (b"sep=,\r\n" + CONTACTS.replace("\n", "\r\n").encode(), 1,
     "the line is Excel's 'sep=' hint, not the header: expected the header row (the column names) on the "
     "first line; delete this line"),
], ids=["a value too many", "unterminated quote", "latin-1", "utf-16", "utf-16 without a BOM", "utf-32", "an xlsx workbook", "an xls workbook", "a value too many on the last line",
        "unterminated quote in the header", "a blank line", "a byte-order mark only", "a 3 MB line",
        "a value too many after a 200 KB one", "a blank line before the header",
        "a line of blanks before the header", "CRLF lines, then an LF one", "a CRLF inside quotes",
        "a comment line", "Excel's sep= line"])
def test_a_csv_that_cannot_be_read_is_named_with_its_line(tmp_path, content, line, message):

    data = write_dir(tmp_path / "d", contacts=None)
    (data / "contacts.csv").write_bytes(content)
    problem = refused(data)
    assert (problem.file, problem.line) == (str(data / "contacts.csv"), line)
    assert message in problem.message


BLANK_LINE_CONTACTS = ("contact_id,created_at,source\n"
                       "C1,2026-01-05T10:00:00Z,web\n"
                       "{blank}\n"
                       "C2,2026-01-06T10:00:00Z,web\n"
                       "C3,05/01/2026,web\n"
                       "   ,  ,\n"  # separators: a row of three blank values, quarantined
                       '"",2026-01-07T10:00:00Z,"a\n   \n\t\nb"\n'  # blank lines in a value are its text
                       "{last}")


@pytest.mark.parametrize("blank, last, crlf", [
    ("   ", "", False), ("\t", "", False), (" \t\u00a0", "", False), ("  ", " \t", False), ("\t", "\t\n", True),
], ids=["spaces", "a tab", "blanks and a no-break space", "a last line of blanks without a line break",
        "CRLF lines"])
def test_a_line_of_only_blanks_is_read_as_an_empty_line_is_no_row(tmp_path, blank, last, crlf):
    """DuckDB skips an empty line, but read a line of spaces or a tab (often the last line an
    editor leaves) as a row of one value: the file was refused. Such a line holds no value in
    any column (a table's rows have two required values at least): it is no row, and the rows
    after it keep the numbers they have beside an empty line."""
    import duckdb

    def load(body: str) -> tuple:
        data = write_dir(tmp_path / f"d{len(list(tmp_path.iterdir()))}", contacts=None)
        (data / "contacts.csv").write_bytes((body.replace("\n", "\r\n") if crlf else body).encode())
        con = duckdb.connect()
        report = load_data_dir(data, con, STAGE_VALUES)
        counts = report.tables["contacts"]
        return ((counts.rows_read, counts.rows_loaded, counts.quarantined_rows),
                rows(con, "select * from raw.contacts order by 1"),
                rows(con, "select source_file, row_number, reason, record from raw.quarantine "
                          "where table_name = 'contacts' order by row_number"))

    with_blanks = load(BLANK_LINE_CONTACTS.format(blank=blank, last=last))
    assert with_blanks == load(BLANK_LINE_CONTACTS.format(blank="", last=""))
    counts, loaded, quarantined = with_blanks
    assert counts == (5, 2, 3) and [r[0] for r in loaded] == ["C1", "C2"]
    assert [r[:3] for r in quarantined] == [("contacts.csv", 3, "bad_timestamp:created_at"),
                                            ("contacts.csv", 4, "missing_required:contact_id"),
                                            ("contacts.csv", 5, "missing_required:contact_id")]
    assert json.loads(quarantined[2][3])["source"].replace("\r", "") == "a\n   \n\t\nb"


@pytest.mark.parametrize("body, line, message", [
    # The line of blanks is read without: the line to name is the row after it.
    ("contact_id,created_at\nC1,2026-01-05\n \t\nC2\n", 4, "1 value, expected 2"),
    ("contact_id,created_at\nC1,2026-01-05\nC2,2026-01-05,web\n\t\n", 3, "3 values, expected 2"),
    # A quoted value of blanks is a value: a row of one value, as before.
    ('contact_id,created_at\nC1,2026-01-05\n"  "\n', 3, "1 value, expected 2"),
], ids=["a value too few after a line of blanks", "a value too many before one", "a quoted blank value"])
def test_a_bad_row_beside_a_line_of_only_blanks_is_the_line_named(tmp_path, body, line, message):

    data = write_dir(tmp_path / "d", contacts=None)
    (data / "contacts.csv").write_text(body)
    problem = refused(data)
    assert (problem.file, problem.line) == (str(data / "contacts.csv"), line)
    assert problem.message == message + " (one per column of the header)"


def test_first_bad_line_takes_a_line_of_only_blanks_as_the_loader_does(tmp_path):
    """The loader and the importers skip such lines (first_bad_line lists them): no bad line."""
    from pipelines.data.csv_check import first_bad_line

    export = tmp_path / "contacts.csv"
    export.write_text('id,created\nC1,2026-01-05\n  \nC2,"a\n \n"\n\t')
    blank: list[int] = []
    assert first_bad_line(export, blank_lines=blank) is None
    assert blank == [3, 7]
    assert first_bad_line(export) is None
    # In a file of one column, such a line is a value, as DuckDB reads it.
    export.write_text("id\nC1\n  \n")
    assert first_bad_line(export, blank_lines=blank) is None and blank == [3, 7]


@pytest.mark.parametrize("column, values, message", [
    ("created_at", pa.array([1767607200, 1767693600], pa.int64()),
     "column 'created_at' is BIGINT: expected ISO 8601 text or a timestamp column"),
    ("contact_id", pa.array([{"a": 1}, {"a": 2}]),
     "column 'contact_id' is STRUCT(a BIGINT): expected plain values"),
    # Impala and older Hive write text as BINARY without the UTF8 annotation: the message
    # called that a nested value.
    ("contact_id", pa.array([b"C1", b"C2"], pa.binary()),
     "column 'contact_id' is BLOB: expected text, numbers or timestamps, not binary data (a writer "
     "that stores text as BINARY without the UTF8 annotation"),
], ids=["epoch seconds as created_at", "a struct as contact_id", "binary as contact_id"])
def test_a_parquet_column_of_the_wrong_type_is_refused_naming_it(tmp_path, column, values, message):
    import duckdb

    data = write_dir(tmp_path / "d", contacts=None)
    table = {"contact_id": pa.array(["C1", "C2"]), "created_at": pa.array(["2026-01-05", "2026-01-06"])}
    table[column] = values
    pq.write_table(pa.table(table), data / "contacts.parquet")
    con = duckdb.connect()
    problem = refused(data, con)
    assert (problem.file, problem.field) == (str(data / "contacts.parquet"), column)
    assert message in problem.message
    assert rows(con, "select count(*) from information_schema.tables where table_schema = 'raw'") == [(0,)]


def test_a_parquet_timestamp_column_for_a_session_date_is_refused(tmp_path):

    data = write_dir(tmp_path / "d")
    pq.write_table(pa.table({"date": pa.array([dt.datetime(2026, 1, 1)], pa.timestamp("us")),
                             "sessions": [1]}), data / "web_sessions.parquet")
    problem = refused(data)
    assert (problem.file, problem.field) == (str(data / "web_sessions.parquet"), "date")
    assert "column 'date' is TIMESTAMP: expected a DATE column or YYYY-MM-DD text" in problem.message


def test_an_empty_csv_is_named_as_empty(tmp_path):
    found = problems(tmp_path, contacts="")
    assert found == [f"{tmp_path / 'd' / 'contacts.csv'}:1: the file is empty: expected a header row with the "
                     "table's columns"]


def test_rows_are_not_counted_without_a_one_character_delimiter(tmp_path):
    from pipelines.data.csv_check import first_bad_line

    # A ';' export with decimal commas: DuckDB detects ';', commas inside values are no error.
    export = tmp_path / "deals.csv"
    export.write_text("deal_id;amount\nD1;1200,50\nD2;99\n")
    assert first_bad_line(export, None) is None
    assert first_bad_line(export, "||") is None  # DuckDB takes it; Python's reader would raise
    assert first_bad_line(export, ";") is None
    assert first_bad_line(export, ",") == (2, "2 values, expected 1 (one per column of the header)")


def test_a_column_named_twice_is_refused_rather_than_one_copy_dropped(tmp_path):
    found = problems(tmp_path, contacts="contact_id,created_at,Contact_ID\nC1,2026-01-05T10:00:00Z,C9\n")
    assert found == [f"{tmp_path / 'd' / 'contacts.csv'} contact_id: column 'contact_id' is named 2 times "
                     "(names match ignoring case): expected it once"]


def test_a_parquet_column_named_twice_ignoring_case_is_refused(tmp_path):
    import duckdb

    data = write_dir(tmp_path / "d", contacts=None)
    pq.write_table(pa.table({"contact_id": ["C1"], "created_at": ["2026-01-05"], "Contact_ID": ["C9"]}),
                   data / "contacts.parquet")
    with pytest.raises(InputError) as exc:
        load_data_dir(data, duckdb.connect(), STAGE_VALUES)
    assert [p.message for p in exc.value.problems] == [
        "column 'contact_id' is named 2 times (names match ignoring case): expected it once"]


def test_parts_may_differ_in_types_of_one_kind_and_in_all_null_columns(tmp_path, con):
    """pandas writes an empty column as pyarrow's `null` type, and int32 or int64 as the day's
    values fit: such parts agree with the others, and every value is read as it is."""
    data = write_dir(tmp_path / "d", web_sessions=None)
    (data / "web_sessions").mkdir()
    pq.write_table(pa.table({"date": ["2026-01-01"], "channel": ["organic"], "sessions": pa.array([7], pa.int32())}),
                   data / "web_sessions" / "part-1.parquet")
    pq.write_table(pa.table({"date": ["2026-01-02"], "channel": pa.array([None], pa.null()),
                             "sessions": pa.array([2**40], pa.int64())}), data / "web_sessions" / "part-2.parquet")
    load_data_dir(data, con, STAGE_VALUES)
    assert rows(con, 'select "date", channel, sessions from raw.web_sessions order by 1') == [
        (dt.date(2026, 1, 1), "organic", 7), (dt.date(2026, 1, 2), None, 2**40)]


def test_on_a_full_load_the_part_that_differs_from_most_is_the_one_named(tmp_path, con):
    data = write_dir(tmp_path / "d", contacts=None)
    (data / "contacts").mkdir()
    naive = {"created_at": pa.array([NOON], pa.timestamp("us"))}
    for i, columns in enumerate((naive, {"created_at": ["2026-01-02"]}, {"created_at": ["2026-01-03"]})):
        pq.write_table(pa.table({"contact_id": [f"C{i}"], **columns}), data / "contacts" / f"part-{i}.parquet")
    problem = refused(data, con)
    assert problem.file == str(data / "contacts" / "part-0.parquet")
    assert problem.message.startswith("column 'created_at' is TIMESTAMP (naive time), but text in the other parts")


def test_a_column_named_twice_in_a_later_part_is_refused(tmp_path, con):
    data = write_dir(tmp_path / "d", contacts=None)
    (data / "contacts").mkdir()
    pq.write_table(pa.table({"contact_id": ["C1"], "created_at": ["2026-01-01"]}), data / "contacts" / "part-1.parquet")
    pq.write_table(pa.table([pa.array(["C2"]), pa.array(["C2b"]), pa.array(["2026-01-02"])],
                            names=["contact_id", "Contact_ID", "created_at"]), data / "contacts" / "part-2.parquet")
    with pytest.raises(InputError) as exc:
        load_data_dir(data, con, STAGE_VALUES)
    assert [(p.file, p.field) for p in exc.value.problems] == [(str(data / "contacts" / "part-2.parquet"), "contact_id")]
    assert "is named 2 times" in exc.value.problems[0].message


def test_a_link_whose_target_is_gone_is_bad_input(tmp_path, con):
    data = write_dir(tmp_path / "d", contacts=None)
    (data / "contacts").mkdir()
    pq.write_table(pa.table({"contact_id": ["C1"], "created_at": ["2026-01-01"]}), data / "contacts" / "part-1.parquet")
    (data / "contacts" / "part-2.parquet").symlink_to(tmp_path / "gone.parquet")
    problem = refused(data, con)
    assert problem.file == str(data / "contacts" / "part-2.parquet") and "gone.parquet" in problem.message


@pytest.mark.timeout(60)  # a named pipe read waits for a writer: the old load never ended
@pytest.mark.parametrize("where, make, message", [
    ("deals.csv", lambda p, tmp: p.symlink_to(tmp / "gone.csv"),
     "is a link to {tmp}/gone.csv, which cannot be read (No such file or directory): expected a UTF-8 CSV file (or a link to one)"),
    ("deals.csv", lambda p, tmp: p.symlink_to(p),
     "is a link to {data}/deals.csv, which cannot be read (Too many levels of symbolic links): expected a UTF-8 CSV file (or a link to one)"),
    ("deals", lambda p, tmp: p.symlink_to(tmp / "gone"),
     "is a link to {tmp}/gone, which cannot be read (No such file or directory): expected a folder of Parquet files (or a link to one)"),
    ("contacts/part-2.parquet", lambda p, tmp: p.symlink_to(p),
     "is a link to {data}/contacts/part-2.parquet, which cannot be read (Too many levels of symbolic links): "
     "expected a Parquet file (or a link to one)"),
    ("deals.csv", lambda p, tmp: os.mkfifo(p), "is a named pipe (FIFO), not a file: expected a UTF-8 CSV file"),
    ("contacts/part-2.parquet", lambda p, tmp: os.mkfifo(p), "is a named pipe (FIFO), not a file: expected a Parquet file"),
], ids=["a link to nothing as an optional table", "a link to itself", "a table's folder linked to nothing",
        "a part linked to itself", "a named pipe", "a named pipe among the parts"])
def test_a_table_file_that_is_no_regular_file_is_bad_input_naming_it(tmp_path, con, where, make, message):
    """A link to nothing was an absent table (its KPIs no_data, without a word), a link loop a
    crash (exit 3), and a named pipe hung the load."""
    data = write_dir(tmp_path / "d", contacts=None)
    (data / "contacts").mkdir()
    pq.write_table(pa.table({"contact_id": ["C1"], "created_at": ["2026-01-01"]}), data / "contacts" / "part-1.parquet")
    make(data / where, tmp_path)
    problem = refused(data, con)
    assert (problem.file, problem.message) == (str(data / where), message.format(tmp=tmp_path, data=data))
    assert rows(con, "select count(*) from information_schema.tables where table_schema = 'raw'") == [(0,)]


def test_names_with_glob_characters_are_read_as_they_are(tmp_path, con):
    """DuckDB reads a file name as a glob pattern: a part named '*.parquet' read every part of
    its folder (a second time), and a data directory 'd [1]' read the files of 'd 1' beside it."""
    write_dir(tmp_path / "d 1", contacts="contact_id,created_at\nOTHER,2026-01-01\n",
              lifecycle_events="contact_id,stage,occurred_at\nOTHER,lead,2026-01-01\n")
    data = write_dir(tmp_path / "d [1]", contacts=None)
    (data / "contacts").mkdir()
    for i, name in enumerate(["*.parquet", "p?rt [1].parquet", "part 1.parquet"]):
        pq.write_table(pa.table({"contact_id": [f"C{i}"], "created_at": ["2026-01-01"]}), data / "contacts" / name)
    report = load_data_dir(data, con, STAGE_VALUES)
    assert rows(con, "select contact_id from raw.contacts order by 1") == [("C0",), ("C1",), ("C2",)]
    assert report.duplicate_rows == 0
    assert rows(con, "select contact_id from raw.lifecycle_events order by 1") == [("C1",), ("C2",)]


@pytest.mark.parametrize("table, values, message", [
    ("contacts", {"created_at": pa.array([True])}, "column 'created_at' is BOOLEAN: expected ISO 8601 text or a timestamp column"),
    ("contacts", {"created_at": pa.array([36000], pa.time32("s"))},
     "column 'created_at' is TIME: expected ISO 8601 text or a timestamp column"),
    ("deals", {"amount": pa.array([True])}, "column 'amount' is BOOLEAN: expected a number column or decimal text"),
    ("deals", {"amount": pa.array([dt.datetime(2026, 1, 1)], pa.timestamp("us"))},
     "column 'amount' is TIMESTAMP: expected a number column or decimal text"),
    ("web_sessions", {"sessions": pa.array([dt.date(2026, 1, 1)])},
     "column 'sessions' is DATE: expected an integer column or whole-number text"),
    ("web_sessions", {"date": pa.array([True])}, "column 'date' is BOOLEAN: expected a DATE column or YYYY-MM-DD text"),
], ids=["a boolean created_at", "a time of day as created_at", "a boolean amount", "a timestamp amount",
        "a date as sessions", "a boolean date"])
def test_a_parquet_column_no_value_of_which_can_be_read_is_refused_naming_it(tmp_path, con, table, values, message):
    """Each of its values was quarantined: every contact, deal or day, and the run alerted both
    teams, for what is one column written with the wrong type."""
    good = {"contacts": {"contact_id": ["C1"], "created_at": ["2026-01-05"]},
            "deals": {"deal_id": ["D1"], "created_at": ["2026-01-05"], "status": ["won"], "amount": ["5"]},
            "web_sessions": {"date": ["2026-01-05"], "sessions": [3]}}[table]
    data = write_dir(tmp_path / "d", contacts=None if table == "contacts" else CONTACTS)
    pq.write_table(pa.table(good | values), data / f"{table}.parquet")
    problem = refused(data, con)
    assert (problem.file, problem.field, problem.message) == (str(data / f"{table}.parquet"), *values, message)
