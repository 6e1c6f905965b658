"""Every contract rule of SPEC §2 quarantines with its reason; nothing disappears."""

from __future__ import annotations

import json

import pytest

from .helpers import rows


def quarantine(con) -> list[tuple]:
    return rows(con, "select table_name, source_file, row_number, reason from raw.quarantine "
                     "order by table_name, row_number")


def assert_no_row_lost(con) -> None:
    for name, read, loaded, dups, quarantined in rows(
            con, "select table_name, rows_read, rows_loaded, duplicate_rows, quarantined_rows "
                 "from raw.load_report"):
        assert read == loaded + dups + quarantined, name
        assert loaded == rows(con, f"select count(*) from raw.{name}")[0][0], name
        assert quarantined == rows(
            con, f"select count(*) from raw.quarantine where table_name = '{name}'")[0][0], name


@pytest.mark.parametrize("body, reason", [
    (",2026-01-05T10:00:00Z,,,,", "missing_required:contact_id"),
    ("C9,,,,,", "missing_required:created_at"),
    ("C9,   ,,,,", "missing_required:created_at"),
    ("C9,05/01/2026,,,,", "bad_timestamp:created_at"),
    ("C9,2026-02-30T10:00:00Z,,,,", "bad_timestamp:created_at"),
    ("C9,yesterday,,,,", "bad_timestamp:created_at"),
    # DuckDB's cast reads each of these as 10:00 UTC: the zone or the text after the time
    # would be dropped and the instant shifted without a word.
    ("C9,2026-02-01 10:00:00 PST,,,,", "bad_timestamp:created_at"),
    ("C9,2026-02-01 10:00:00 Europe/Berlin,,,,", "bad_timestamp:created_at"),
    ("C9,2026-02-01 10:00:00 garbage,,,,", "bad_timestamp:created_at"),
], ids=["empty id", "empty timestamp", "blank timestamp", "US date", "February 30th", "words",
        "zone abbreviation", "zone name", "trailing text"])
def test_a_contact_that_breaks_a_rule_is_quarantined_with_its_reason(load, body, reason):
    report, con = load(contacts=f"contact_id,created_at,source,persona,seniority,country\n"
                                f"C1,2026-01-05T10:00:00Z,,,,\n{body}\nC2,2026-01-06,,,,\n")
    assert quarantine(con) == [("contacts", "contacts.csv", 2, reason)]
    assert report.by_reason == {reason: 1}
    assert rows(con, "select contact_id from raw.contacts order by 1") == [("C1",), ("C2",)]


def test_unknown_stage_and_missing_stage_and_bad_occurred_at(load):
    report, con = load(lifecycle_events="""\
        contact_id,stage,occurred_at,reason
        C1,lead,2026-01-05T10:00:00Z,
        C1,evangelist,2026-01-06T10:00:00Z,
        C1,,2026-01-06T10:00:00Z,
        C1,mql,2026-13-01T10:00:00Z,
        C1,MarketingQualifiedLead,2026-01-07T10:00:00Z,
        C2,recycled,2026-01-08T10:00:00Z,no budget
        """)
    assert quarantine(con) == [
        ("lifecycle_events", "lifecycle_events.csv", 2, "unknown_stage"),
        ("lifecycle_events", "lifecycle_events.csv", 3, "missing_required:stage"),
        ("lifecycle_events", "lifecycle_events.csv", 4, "bad_timestamp:occurred_at"),
    ]
    # CRM values are matched case-insensitively and stored lower-cased, as the CRM gave them:
    # which stage they mean is each revision's (dbt's stg_agreement__stage_values).
    assert rows(con, "select contact_id, stage, reason from raw.lifecycle_events order by 1, 2") == [
        ("C1", "lead", None), ("C1", "marketingqualifiedlead", None), ("C2", "recycled", "no budget")]
    assert report.by_reason == {"unknown_stage": 1, "missing_required:stage": 1,
                                "bad_timestamp:occurred_at": 1}


def test_a_crm_value_matches_whatever_its_unicode_form_and_case(tmp_path, con):
    """An agreement lists 'Café', 'ΠΕΛΑΤΗΣ' and 'İlgili'; the export writes them decomposed
    (e + a combining accent, as macOS writes names) or in another case. Each is the value
    the agreement lists, stored as the agreement's key for it, not quarantined as unknown."""
    import unicodedata

    from pipelines.agreement.model import stage_value
    from pipelines.data.load import load_data_dir

    from .helpers import write_dir

    nfd = unicodedata.normalize("NFD", "CAFÉ")
    data = write_dir(tmp_path / "data", lifecycle_events=f"""\
        contact_id,stage,occurred_at,reason
        C1,{nfd},2026-01-05T10:00:00Z,
        C1,ΠΕΛΑΤΗΣ,2026-01-06T10:00:00Z,
        C2,İLGİLİ,2026-01-06T11:00:00Z,
        """)
    listed = ["Café", "ΠΕΛΑΤΗΣ", "İlgili"]
    report = load_data_dir(data, con, listed)
    assert report.by_reason == {}
    assert sorted(v for (v,) in rows(con, "select stage from raw.lifecycle_events")) == sorted(
        stage_value(v) for v in listed)


def test_the_lifecycle_values_no_agreement_lists_are_counted_most_frequent_first(load):
    from pipelines.warehouse.summary import data_quality_summary

    report, con = load(lifecycle_events="""\
        contact_id,stage,occurred_at,reason
        C1,evangelist,2026-01-06T10:00:00Z,
        C1,other,2026-01-07T10:00:00Z,
        C2,other,2026-01-08T10:00:00Z,
        C2,mql,2026-13-01T10:00:00Z,
        """)
    assert report.by_reason == {"unknown_stage": 3, "bad_timestamp:occurred_at": 1}
    # The values to add to a stage's crm_values, most frequent first; not the stage of a row
    # quarantined for another reason (mql, whose time is no date).
    assert list(data_quality_summary(con)["unknown_stage_values"].items()) == [("other", 2), ("evangelist", 1)]


def test_a_row_is_quarantined_once_with_the_first_rule_it_breaks(load):
    # An event of an unknown contact whose timestamp cannot be read is a bad timestamp (the
    # row's own value) before it is an unknown contact; the reason is not overwritten.
    report, con = load(
        lifecycle_events="""\
            contact_id,stage,occurred_at,reason
            C1,lead,2026-01-05T10:00:00Z,
            C7,lead,yesterday,
            C7,evangelist,2026-01-05T10:00:00Z,
            C7,lead,2026-01-05T10:00:00Z,
            """)
    assert quarantine(con) == [
        ("lifecycle_events", "lifecycle_events.csv", 2, "bad_timestamp:occurred_at"),
        ("lifecycle_events", "lifecycle_events.csv", 3, "unknown_stage"),
        ("lifecycle_events", "lifecycle_events.csv", 4, "unknown_contact"),
    ]
    assert report.by_reason == {"bad_timestamp:occurred_at": 1, "unknown_stage": 1, "unknown_contact": 1}
    assert_no_row_lost(con)


def test_events_and_activities_of_unknown_contacts_are_quarantined_deals_are_not(load):
    report, con = load(
        lifecycle_events="""\
            contact_id,stage,occurred_at,reason
            C1,lead,2026-01-05T10:00:00Z,
            C7,lead,2026-01-05T10:00:00Z,
            """,
        activities="""\
            activity_id,contact_id,occurred_at,team,type
            A1,C1,2026-01-05T12:00:00Z,sales,call
            A2,C7,2026-01-05T12:00:00Z,sales,call
            """,
        deals="""\
            deal_id,contact_id,created_at,closed_at,status,amount,currency
            D1,,2026-02-01T00:00:00Z,,open,100,USD
            D2,C7,2026-02-01T00:00:00Z,,open,100,USD
            D3,C2,2026-02-01T00:00:00Z,2026-03-01T00:00:00Z,won,100,USD
            D4,C7,2026-02-01T00:00:00Z,2026-03-01T00:00:00Z,won,250,USD
            """)
    assert quarantine(con) == [
        ("activities", "activities.csv", 2, "unknown_contact"),
        ("lifecycle_events", "lifecycle_events.csv", 2, "unknown_contact"),
    ]
    # SPEC §2: deals.contact_id is optional and only events and activities need a contact
    # that `contacts` holds. A won deal of a contact not in contacts is still revenue.
    assert rows(con, "select deal_id, contact_id from raw.deals order by 1") == [
        ("D1", None), ("D2", "C7"), ("D3", "C2"), ("D4", "C7")]
    assert report.by_reason == {"unknown_contact": 2}
    assert report.tables["deals"].quarantined_rows == 0


def test_rows_of_a_quarantined_contact_become_unknown_contact(load):
    _, con = load(contacts="""\
        contact_id,created_at,source,persona,seniority,country
        C1,2026-01-05T10:00:00Z,,,,
        C2,not a time,,,,
        """)
    assert quarantine(con) == [("contacts", "contacts.csv", 2, "bad_timestamp:created_at"),
                               ("lifecycle_events", "lifecycle_events.csv", 2, "unknown_contact")]


def test_a_deal_of_a_quarantined_contact_is_loaded_with_its_contact_id(load):
    report, con = load(
        contacts="""\
            contact_id,created_at,source,persona,seniority,country
            C1,2026-01-05T10:00:00Z,,,,
            C2,not a time,,,,
            """,
        deals="""\
            deal_id,contact_id,created_at,closed_at,status,amount,currency
            D1,C2,2026-02-01T00:00:00Z,2026-03-01T00:00:00Z,won,100,USD
            """)
    assert rows(con, "select deal_id, contact_id from raw.deals") == [("D1", "C2")]
    assert report.tables["deals"].quarantined_rows == 0


def test_an_id_repeated_with_different_content_quarantines_every_version(load):
    report, con = load(contacts="""\
        contact_id,created_at,source,persona,seniority,country
        C1,2026-01-05T10:00:00Z,organic,,,
        C2,2026-01-06T11:00:00Z,organic,,,
        C2,2026-01-06T11:00:00Z,paid_search,,,
        C2,2026-01-06T11:00:00Z,paid_search,,,
        """)
    assert quarantine(con) == [
        ("contacts", "contacts.csv", 2, "conflicting_duplicate_id"),
        ("contacts", "contacts.csv", 3, "conflicting_duplicate_id"),
        ("lifecycle_events", "lifecycle_events.csv", 2, "unknown_contact"),
    ]
    # The exact copy (row 4) is a duplicate, counted once, not quarantined twice.
    assert report.tables["contacts"].duplicate_rows == 1
    assert report.tables["contacts"].quarantined_rows == 2
    assert_no_row_lost(con)


def test_deal_rules_status_amount_and_numbers(load):
    report, con = load(deals="""\
        deal_id,contact_id,created_at,closed_at,status,amount,currency
        D1,C1,2026-02-01T00:00:00Z,2026-03-01T00:00:00Z,WON,12000.50,USD
        D2,C1,2026-02-01T00:00:00Z,,pending,100,USD
        D3,C1,2026-02-01T00:00:00Z,,open,-5,USD
        D4,C1,2026-02-01T00:00:00Z,,open,"12,000",USD
        D5,C1,2026-02-01T00:00:00Z,,open,,USD
        D6,C1,2026-02-01T00:00:00Z,soon,lost,1,USD
        D7,C1,2026-02-01T00:00:00Z,,won,10,USD
        D8,C1,2026-02-01T00:00:00Z,,Lost,10,USD
        D9,C1,2026-02-01T00:00:00Z,,open,10,USD
        """)
    assert [r[2:] for r in quarantine(con)] == [
        (2, "invalid_value:status"), (3, "negative_amount"), (4, "bad_number:amount"),
        (5, "missing_required:amount"), (6, "bad_timestamp:closed_at")]
    # closed_at is optional (SPEC §2): a won or lost deal without it is loaded, and counts in
    # no month's revenue.
    assert rows(con, "select deal_id, status, closed_at is null, amount::varchar from raw.deals "
                     "order by 1") == [
        ("D1", "won", False, "12000.500000"), ("D7", "won", True, "10.000000"),
        ("D8", "lost", True, "10.000000"), ("D9", "open", True, "10.000000")]
    assert report.quarantined_rows == 5


@pytest.mark.parametrize("amount, loaded, reason", [
    # Amounts keep 6 decimal places (decimal(26,6)): 3-decimal (KWD, BHD) and 4-decimal (CLF)
    # currencies are not rounded to cents.
    ("100.005", "100.005000", None),
    ("0.004", "0.004000", None),
    ("0.0001", "0.000100", None),
    ("1.0000005", "1.000001", None),  # a 7th place is rounded
    ("12345678901234567890.123456", "12345678901234567890.123456", None),
    ("1e20", None, "bad_number:amount"),  # beyond decimal(26,6): a sum could overflow
    ("-0.004", None, "negative_amount"),
    ("-0.0000004", None, "negative_amount"),  # rounds to 0.000000: negative before rounding
    ("-0.00", "0.000000", None),
    ("-0", "0.000000", None),
    ("-0e5", "0.000000", None),
    ("-1e-9", None, "negative_amount"),
    ("1_000", None, "bad_number:amount"),  # DuckDB's cast reads 1000
    ("1.2e4", "12000.000000", None),
    (".5", "0.500000", None),
])
def test_an_amount_is_judged_on_its_text_before_rounding(load, amount, loaded, reason):
    report, con = load(deals="deal_id,contact_id,created_at,closed_at,status,amount,currency\n"
                             f"D1,C1,2026-02-01T00:00:00Z,,open,{amount},USD\n")
    assert rows(con, "select amount::varchar from raw.deals") == ([(loaded,)] if loaded else [])
    assert report.by_reason == ({reason: 1} if reason else {})


def test_activity_team_must_be_sales_or_marketing(load):
    _, con = load(activities="""\
        activity_id,contact_id,occurred_at,team,type
        A1,C1,2026-01-05T12:00:00Z,Sales,call
        A2,C1,2026-01-05T12:00:00Z,support,call
        """)
    assert [r[3] for r in quarantine(con)] == ["invalid_value:team"]
    assert rows(con, "select team from raw.activities") == [("sales",)]


def test_web_sessions_must_be_whole_non_negative_numbers_on_real_dates(load):
    report, con = load(web_sessions="""\
        date,channel,sessions
        2026-01-01,organic,120
        2026-01-02,organic,-3
        2026-01-03,organic,3.5
        2026-01-32,organic,4
        2026-01-04,organic,
        """)
    assert [r[2:] for r in quarantine(con)] == [
        (2, "negative_sessions"), (3, "bad_number:sessions"), (4, "bad_date:date"),
        (5, "missing_required:sessions")]
    assert rows(con, "select date::varchar, sessions from raw.web_sessions") == [
        ("2026-01-01", 120)]
    assert report.tables["web_sessions"].rows_loaded == 1


@pytest.mark.parametrize("value", [
    "infinity", "epoch", "2026/01/01", "2026-1-1", "2026-01-01 10:00:00", "2026-02-01T03:00:00Z",
    "2026-01-01 (BC)", "0000-01-01", "99999-01-01", "20260101",
])
def test_a_session_date_is_yyyy_mm_dd_and_nothing_else(load, value):
    # Each of these was read by DuckDB's cast (a time or zone dropped, 'epoch' as 1970-01-01).
    report, con = load(web_sessions=f"date,channel,sessions\n{value},organic,1\n0001-01-01,organic,2\n"
                                    "9999-12-31,organic,3\n")
    assert report.by_reason == {"bad_date:date": 1}
    assert rows(con, "select sessions from raw.web_sessions order by 1") == [(2,), (3,)]


@pytest.mark.parametrize("value, loaded", [
    ("9007199254740993", 9007199254740993),  # 2^53 + 1: a double rounds it
    ("9223372036854775807", 9223372036854775807),
    ("12.0", 12),
    ("-0", 0),
    ("9223372036854775808", None),  # past bigint: the cast used to stop the load
    ("1e19", None),
    ("-9.3e18", None),
    ("1e2", None),
    ("1_000", None),
    ("0x10", None),
])
def test_session_counts_are_read_from_their_digits(load, value, loaded):
    report, con = load(web_sessions=f"date,channel,sessions\n2026-01-01,organic,{value}\n")
    assert rows(con, "select sessions from raw.web_sessions") == ([(loaded,)] if loaded is not None else [])
    assert report.by_reason == ({} if loaded is not None else {"bad_number:sessions": 1})


def test_exact_duplicates_are_removed_counted_and_the_first_row_kept(load):
    report, con = load(lifecycle_events="""\
        contact_id,stage,occurred_at,reason
        C1,lead,2026-01-05T10:00:00Z,
        C1,lead,2026-01-05T10:00:00Z,
        C2,lead,2026-01-06T11:00:00Z,
        C1,lead,2026-01-05T10:00:00Z,
        C2,evangelist,2026-01-06T11:00:00Z,
        C2,evangelist,2026-01-06T11:00:00Z,
        """)
    events = report.tables["lifecycle_events"]
    assert (events.rows_read, events.rows_loaded, events.duplicate_rows,
            events.quarantined_rows) == (6, 2, 3, 1)
    # The quarantined row is reported once, at its first occurrence.
    assert quarantine(con) == [("lifecycle_events", "lifecycle_events.csv", 5, "unknown_stage")]
    assert report.duplicate_rows == 3
    assert report.data_quality() == {"quarantined_rows": 1, "duplicate_rows": 3,
                                     "by_reason": {"unknown_stage": 1}}


def test_quarantine_keeps_the_row_as_read_in_json(load):
    _, con = load(deals="""\
        deal_id,contact_id,created_at,closed_at,status,amount,currency
        D1,C1,2026-02-01T00:00:00Z,,open,-5,USD
        """)
    (record,) = rows(con, "select record from raw.quarantine")[0]
    assert json.loads(record) == {"deal_id": "D1", "contact_id": "C1",
                                  "created_at": "2026-02-01T00:00:00Z", "closed_at": None,
                                  "status": "open", "amount": "-5", "currency": "USD"}


def test_no_row_is_lost_in_a_messy_directory(load):
    report, con = load(
        contacts="""\
            contact_id,created_at,source,persona,seniority,country
            C1,2026-01-05T10:00:00Z,,,,
            C1,2026-01-05T10:00:00Z,,,,
            C2,2026-01-06,,,,
            C3,2026-01-06,,,,
            C3,2026-01-07,,,,
            ,2026-01-07,,,,
            """,
        lifecycle_events="""\
            contact_id,stage,occurred_at,reason
            C1,lead,2026-01-05T10:00:00Z,
            C1,lead,2026-01-05T10:00:00Z,
            C3,lead,2026-01-06T10:00:00Z,
            C2,nope,2026-01-06T10:00:00Z,
            C2,mql,,
            """)
    assert_no_row_lost(con)
    assert report.quarantined_rows == sum(report.by_reason.values()) == 6
    assert report.duplicate_rows == 2


def test_loading_twice_gives_the_same_warehouse(tmp_path, con):
    from pipelines.data.load import load_data_dir

    from .helpers import STAGE_VALUES, write_dir

    data = write_dir(tmp_path / "d", deals="""\
        deal_id,contact_id,created_at,closed_at,status,amount,currency
        D1,C1,2026-02-01T00:00:00Z,,open,-5,USD
        D2,C1,2026-02-01T00:00:00Z,,open,5,USD
        """)

    def snapshot():
        names = ["contacts", "lifecycle_events", "activities", "deals", "web_sessions",
                 "quarantine", "load_report"]
        return {n: rows(con, f"select * from raw.{n}") for n in names}

    first = load_data_dir(data, con, STAGE_VALUES)
    before = snapshot()
    second = load_data_dir(data, con, STAGE_VALUES)
    assert snapshot() == before
    assert first == second
    assert before["deals"] and before["quarantine"]


def test_a_failed_load_leaves_the_previous_warehouse_untouched(tmp_path, con):
    from pipelines.data.load import load_data_dir
    from pipelines.errors import InputError

    from .helpers import STAGE_VALUES, write_dir

    data = write_dir(tmp_path / "d")
    load_data_dir(data, con, STAGE_VALUES)
    (data / "contacts.csv").write_text("id,created\nC1,2026-01-01\n")
    with pytest.raises(InputError):
        load_data_dir(data, con, STAGE_VALUES)
    assert rows(con, "select count(*) from raw.contacts") == [(2,)]


def test_rows_that_differ_only_in_surrounding_blanks_are_exact_duplicates(load):
    # Grouped before the blanks were removed, 'C2 ' and 'C2' were two versions of one id
    # (both quarantined, with the same record), and 'organic ' a second day of visits.
    report, con = load(
        lifecycle_events="""\
            contact_id,stage,occurred_at,reason
            C1,lead,2026-01-05T10:00:00Z,
            C2 ,lead,2026-01-06T11:00:00Z,
            C2,lead,2026-01-06T11:00:00Z,
            """,
        contacts="contact_id,created_at,source,persona,seniority,country\n"
                 "C1,2026-01-05T10:00:00Z,organic,,,\n"
                 "C2,2026-01-06T11:00:00Z,organic,,,\n"
                 "C2 ,2026-01-06T11:00:00Z,\torganic\u00a0,,,\n",
        web_sessions="date,channel,sessions\n2026-01-01,organic,10\n2026-01-01,organic ,10\n")
    assert quarantine(con) == []
    assert rows(con, "select contact_id, source from raw.contacts order by 1") == [
        ("C1", "organic"), ("C2", "organic")]
    assert rows(con, "select sum(sessions) from raw.web_sessions") == [(10,)]
    assert {n: t.duplicate_rows for n, t in report.tables.items() if t.present} == {
        "contacts": 1, "lifecycle_events": 1, "web_sessions": 1}
    assert_no_row_lost(con)


@pytest.mark.parametrize("blank", ["\t", "\u00a0", " \t\r\u3000 "], ids=["tab", "no-break space", "mixed"])
def test_a_value_of_only_blanks_is_missing(load, blank):
    # trim() removes only spaces: a tab was loaded as a contact id.
    _, con = load(contacts="contact_id,created_at,source,persona,seniority,country\n"
                           "C1,2026-01-05T10:00:00Z,,,,\n"
                           f'"{blank}",2026-01-05T10:00:00Z,,,,\n'
                           f'C2,"{blank}",,,,\n')
    assert [r[2:] for r in quarantine(con) if r[0] == "contacts"] == [
        (2, "missing_required:contact_id"), (3, "missing_required:created_at")]
    assert rows(con, "select contact_id from raw.contacts") == [("C1",)]


def test_blanks_are_the_characters_python_strips():
    from pipelines.data.row_sql import BLANKS

    # agreement.model.stage_value strips CRM values with str.strip(): the SQL must remove the same ones.
    assert BLANKS == "".join(c for c in map(chr, range(0x110000)) if c.isspace())
