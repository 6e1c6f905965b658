"""Appending new files gives exactly what a full reload of the directory gives, or reloads."""

from __future__ import annotations

import datetime as dt
import os
import textwrap
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.data.load import load_data_dir

from .helpers import STAGE_VALUES

RAW = ["contacts", "lifecycle_events", "activities", "deals", "web_sessions", "quarantine", "load_report"]


def snapshot(con) -> dict[str, list[tuple]]:
    """Every raw table as a sorted list: row order is not part of the contract."""
    return {t: sorted(con.execute(f"select * from raw.{t}").fetchall(), key=repr) for t in RAW}


def full_load(data: Path, stage_values=STAGE_VALUES) -> tuple[object, dict]:
    with duckdb.connect() as con:
        report = load_data_dir(data, con, stage_values)
        return report, snapshot(con)


def part(data: Path, table: str, name: str, body: str) -> Path:
    """A Parquet part `data/<table>/<name>.parquet` of text columns, from CSV text."""
    folder = data / table
    folder.mkdir(parents=True, exist_ok=True)
    csv = folder / f"{name}.csv.tmp"
    csv.write_text(textwrap.dedent(body))
    out = folder / f"{name}.parquet"
    with duckdb.connect() as con:
        con.execute(f"copy (select * from read_csv('{csv}', all_varchar = true, header = true)) "
                    f"to '{out}' (format parquet)")
    csv.unlink()
    return out


@pytest.fixture
def day1(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    part(data, "contacts", "2026-03-01", """\
        contact_id,created_at,source,persona,seniority,country
        C1,2026-03-01T10:00:00Z,organic,champion,vp,MX
        C2,2026-03-01T11:00:00Z,paid_search,,,US
        C3,not a date,organic,,,US
        """)
    part(data, "lifecycle_events", "2026-03-01", """\
        contact_id,stage,occurred_at,reason
        C1,lead,2026-03-01T10:00:00Z,
        C2,lead,2026-03-01T11:00:00Z,
        C2,lead,2026-03-01T11:00:00Z,
        C9,lead,2026-03-01T12:00:00Z,
        """)
    return data


def test_a_new_day_is_appended_and_equals_a_full_reload(tmp_path: Path) -> None:
    from bench.datasets import split_daily
    from pipelines.data.generate import generate

    generated = tmp_path / "generated"
    generate(generated, contacts=400, seed=5, start=date(2026, 1, 1), end=date(2026, 3, 31), fmt="parquet")
    split_daily(generated, tmp_path / "split", date(2026, 3, 20))
    history, new = tmp_path / "split" / "history", tmp_path / "split" / "new"
    with duckdb.connect() as con:
        first = load_data_dir(history, con, STAGE_VALUES)
        appended = load_data_dir(new, con, STAGE_VALUES)
        after_append = snapshot(con)
        again = load_data_dir(new, con, STAGE_VALUES)
        assert snapshot(con) == after_append
    assert first.mode == "full"
    assert appended.mode == "incremental" and appended.new_files == 5
    assert again.mode == "unchanged"
    reference, reference_rows = full_load(new)
    assert after_append == reference_rows
    assert appended == reference
    # The day brought rows to every table, and the generator's planted problems are there.
    assert appended.tables["lifecycle_events"].rows_read > first.tables["lifecycle_events"].rows_read
    assert reference.quarantined_rows > 0


def test_new_parts_with_their_own_problems_are_appended_with_the_same_quarantine(day1: Path) -> None:
    with duckdb.connect() as con:
        load_data_dir(day1, con, STAGE_VALUES)
        part(day1, "contacts", "2026-03-02", """\
            contact_id,created_at,source,persona,seniority,country
            C4,2026-03-02T10:00:00Z,organic,,,MX
            C5,2026-03-02T10:00:00Z,organic,,,MX
            C5,2026-03-02T11:00:00Z,organic,,,MX
            """)
        part(day1, "lifecycle_events", "2026-03-02", """\
            contact_id,stage,occurred_at,reason
            C4,mql,2026-03-02T10:00:00Z,
            C4,mql,2026-03-02T10:00:00Z,
            C5,lead,2026-03-02T10:00:00Z,
            C4,nonsense,2026-03-02T10:00:00Z,
            C3,lead,2026-03-02T10:00:00Z,
            """)
        report = load_data_dir(day1, con, STAGE_VALUES)
        rows = snapshot(con)
    assert report.mode == "incremental"
    reference, reference_rows = full_load(day1)
    assert rows == reference_rows and report == reference
    assert report.by_reason == {"bad_timestamp:created_at": 1, "conflicting_duplicate_id": 2,
                                "unknown_contact": 3, "unknown_stage": 1}


def test_a_new_contact_of_an_earlier_deal_is_appended(day1: Path) -> None:
    # Deals keep a contact_id that contacts does not hold (SPEC §2): the contact arriving
    # later changes no earlier row, so the day is appended.
    deals = "deal_id,contact_id,created_at,closed_at,status,amount,currency\n"
    with duckdb.connect() as con:
        part(day1, "deals", "2026-03-01", deals + "D1,C8,2026-03-01T10:00:00Z,2026-03-01T12:00:00Z,won,10,USD\n")
        first = load_data_dir(day1, con, STAGE_VALUES)
        part(day1, "contacts", "2026-03-02", """\
            contact_id,created_at,source,persona,seniority,country
            C8,2026-03-01T09:00:00Z,organic,,,MX
            """)
        report = load_data_dir(day1, con, STAGE_VALUES)
        rows = snapshot(con)
    assert first.tables["deals"].rows_loaded == 1
    assert report.mode == "incremental", report.why_full
    reference, reference_rows = full_load(day1)
    assert rows == reference_rows and report == reference


@pytest.mark.parametrize("change, why", [
    ("contact id again", "repeats the id 'C1'"),
    ("event again", "repeats an earlier one"),
    ("contact of an earlier orphan", "quarantined for the contact 'C9'"),
    ("quarantined row again", "repeats the id 'C3'"),
    ("orphan event again", "repeats an earlier quarantined one"),
    ("old part rewritten", "changed since the last load"),
    ("old part rewritten, size and mtime put back", "lifecycle_events/2026-03-01.parquet changed"),
    ("old part rewritten in place, size, mtime and inode kept", "lifecycle_events/2026-03-01.parquet changed"),
    ("new link to an old part", "repeats an earlier one"),
    ("old part removed", "is gone since the last load"),
    ("table added", "table 'deals' appeared"),
])
def test_what_would_change_earlier_rows_makes_a_full_reload(day1: Path, change: str, why: str) -> None:
    contacts_header = "contact_id,created_at,source,persona,seniority,country\n"
    with duckdb.connect() as con:
        load_data_dir(day1, con, STAGE_VALUES)
        if change == "contact id again":
            part(day1, "contacts", "2026-03-02", contacts_header + "C1,2026-03-02T10:00:00Z,webinar,,,MX\n")
        elif change == "event again":
            part(day1, "lifecycle_events", "2026-03-02",
                 "contact_id,stage,occurred_at,reason\nC1,lead,2026-03-01T10:00:00Z,\n")
        elif change == "contact of an earlier orphan":
            part(day1, "contacts", "2026-03-02", contacts_header + "C9,2026-03-01T09:00:00Z,organic,,,MX\n")
        elif change == "quarantined row again":
            part(day1, "contacts", "2026-03-02", contacts_header + "C3,not a date,organic,,,US\n")
        elif change == "orphan event again":
            # Quarantined as unknown_contact after the append check ran: a full reload counts
            # the copy as a duplicate of the first.
            part(day1, "lifecycle_events", "2026-03-02",
                 "contact_id,stage,occurred_at,reason\nC9,lead,2026-03-01T12:00:00Z,\n")
        elif change == "old part rewritten":
            old = day1 / "lifecycle_events" / "2026-03-01.parquet"
            stat = old.stat()
            part(day1, "lifecycle_events", "2026-03-01", "contact_id,stage,occurred_at,reason\nC1,mql,2026-03-02T10:00:00Z,\n")
            os.utime(old, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
        elif change == "old part rewritten in place, size, mtime and inode kept":
            # Only ctime tells: a write in place keeps the inode, and utime cannot set ctime.
            old = day1 / "lifecycle_events" / "2026-03-01.parquet"
            stat = old.stat()
            other = part(day1 / "elsewhere", "lifecycle_events", "2026-03-01", """\
                contact_id,stage,occurred_at,reason
                C1,lead,2026-03-01T10:00:00Z,
                C2,lead,2026-03-01T11:00:00Z,
                C2,lead,2026-03-01T11:00:00Z,
                C7,lead,2026-03-01T12:00:00Z,
                """)
            content = other.read_bytes()
            other.unlink()
            assert len(content) == stat.st_size, "the same size, or the size alone would tell"
            with open(old, "r+b") as handle:
                handle.write(content)
            os.utime(old, ns=(stat.st_atime_ns, stat.st_mtime_ns))
            assert old.stat().st_ino == stat.st_ino
        elif change == "old part rewritten, size and mtime put back":
            # What a tool that restores timestamps leaves: only ctime (and, when the file was
            # replaced, the inode) tells.
            old = day1 / "lifecycle_events" / "2026-03-01.parquet"
            stat = old.stat()
            part(day1, "lifecycle_events", "2026-03-01", """\
                contact_id,stage,occurred_at,reason
                C1,lead,2026-03-01T10:00:00Z,
                C2,lead,2026-03-01T11:00:00Z,
                C2,lead,2026-03-01T11:00:00Z,
                C8,lead,2026-03-01T12:00:00Z,
                """)
            os.utime(old, ns=(stat.st_atime_ns, stat.st_mtime_ns))
            assert (old.stat().st_size, old.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
        elif change == "new link to an old part":
            # A content-addressed store links a day whose file is identical to an earlier one.
            (day1 / "lifecycle_events" / "2026-03-02.parquet").symlink_to("2026-03-01.parquet")
        elif change == "old part removed":
            part(day1, "lifecycle_events", "2026-03-02", "contact_id,stage,occurred_at,reason\nC1,mql,2026-03-02T10:00:00Z,\n")
            (day1 / "lifecycle_events" / "2026-03-01.parquet").unlink()
        elif change == "table added":
            part(day1, "deals", "2026-03-02", "deal_id,contact_id,created_at,closed_at,status,amount,currency\n"
                 "D1,C1,2026-03-02T10:00:00Z,,open,10,USD\n")
        report = load_data_dir(day1, con, STAGE_VALUES)
        rows = snapshot(con)
    assert report.mode == "full"
    assert why in report.why_full
    reference, reference_rows = full_load(day1)
    assert rows == reference_rows and report == reference


def test_a_table_removed_since_the_last_load_makes_a_full_reload(day1: Path) -> None:
    # deals may be absent (SPEC §2): once gone, its rows must go too, as in a full reload.
    import shutil

    part(day1, "deals", "2026-03-01", "deal_id,contact_id,created_at,closed_at,status,amount,currency\n"
         "D1,C1,2026-03-01T10:00:00Z,2026-03-01T12:00:00Z,won,10,USD\n")
    with duckdb.connect() as con:
        load_data_dir(day1, con, STAGE_VALUES)
        shutil.rmtree(day1 / "deals")
        report = load_data_dir(day1, con, STAGE_VALUES)
        rows = snapshot(con)
    assert report.mode == "full" and "table 'deals' is gone since the last load" in report.why_full
    reference, reference_rows = full_load(day1)
    assert rows == reference_rows and report == reference
    assert rows["deals"] == []


def test_a_value_a_revision_starts_to_list_brings_back_its_quarantined_events(day1: Path) -> None:
    won = "contact_id,stage,occurred_at,reason\nC1,Won,2026-03-02T10:00:00Z,\n"
    with duckdb.connect() as con:
        load_data_dir(day1, con, STAGE_VALUES)
        part(day1, "lifecycle_events", "2026-03-02", won)
        before = load_data_dir(day1, con, STAGE_VALUES)  # no revision knows `won` yet
        assert before.mode == "incremental" and before.by_reason["unknown_stage"] == 1
        after = load_data_dir(day1, con, STAGE_VALUES | {"won"})  # a revision lists it now
        rows = snapshot(con)
        stages = con.execute("select stage from raw.lifecycle_events where contact_id = 'C1' order by 1").fetchall()
    assert after.mode == "full" and "lifecycle stage values" in after.why_full
    assert stages == [("lead",), ("won",)]
    assert "unknown_stage" not in after.by_reason
    reference, reference_rows = full_load(day1, STAGE_VALUES | {"won"})
    assert rows == reference_rows and after == reference


def test_a_value_no_revision_lists_any_more_quarantines_its_events_again(day1: Path) -> None:
    with duckdb.connect() as con:
        load_data_dir(day1, con, STAGE_VALUES)
        report = load_data_dir(day1, con, STAGE_VALUES - {"lead"})
        rows = snapshot(con)
    assert report.mode == "full"
    reference, reference_rows = full_load(day1, STAGE_VALUES - {"lead"})
    assert rows == reference_rows
    assert not [r for r in rows["lifecycle_events"] if r[1] == "lead"]


def test_a_warehouse_recorded_by_an_earlier_loader_is_reloaded(day1: Path) -> None:
    # Version 3 recorded fewer columns in raw.load_files: they must not be read.
    with duckdb.connect() as con:
        load_data_dir(day1, con, STAGE_VALUES)
        con.execute("alter table raw.load_files drop column inode")
        con.execute("update raw.load_state set loader_version = 3")
        report = load_data_dir(day1, con, STAGE_VALUES)
    assert report.mode == "full" and "another version of the loader" in report.why_full


def test_a_warehouse_loaded_before_load_files_existed_is_reloaded(day1: Path) -> None:
    with duckdb.connect() as con:
        load_data_dir(day1, con, STAGE_VALUES)
        con.execute("drop table raw.load_files")
        report = load_data_dir(day1, con, STAGE_VALUES)
    assert report.mode == "full" and "recorded what it read" in report.why_full


@pytest.mark.parametrize("name, columns, column, message", [
    ("2026-03-02", {"created_at": pa.array([dt.datetime(2026, 3, 2, 10)], pa.timestamp("us", tz="UTC"))},
     "created_at", "column 'created_at' is TIMESTAMP WITH TIME ZONE (time with a zone), but text in 2026-03-01.parquet"),
    ("2026-03-02", {"created_at": ["2026-03-02T10:00:00Z"], "country": None},
     "country", "column 'country' is missing, but it is in 2026-03-01.parquet"),
    # Sorted before the history (whose types the reader once took from the first part).
    ("2026-02-28", {"created_at": pa.array([1772272800], pa.int64())},
     "created_at", "column 'created_at' is BIGINT (number), but text in 2026-03-01.parquet"),
    ("2026-02-28", {"created_at": ["2026-02-28T10:00:00Z"], "country": pa.array([1], pa.int64())},
     "country", "column 'country' is BIGINT (number), but text in 2026-03-01.parquet"),
], ids=["a time zone after text", "a column dropped", "epoch numbers, sorted first",
        "numbers after text, sorted first"])
def test_a_new_part_that_disagrees_with_the_table_is_refused_and_nothing_written(
        day1: Path, name: str, columns: dict, column: str, message: str) -> None:
    from pipelines.errors import InputError

    with duckdb.connect() as con:
        load_data_dir(day1, con, STAGE_VALUES)
        before = snapshot(con)
        new = day1 / "contacts" / f"{name}.parquet"
        text = {c: pa.array([None], pa.string()) for c in ("source", "persona", "seniority", "country")}
        table = {"contact_id": ["C4"], **text, **columns}  # None: the column left out
        pq.write_table(pa.table({c: v for c, v in table.items() if v is not None}), new)
        with pytest.raises(InputError) as exc:
            load_data_dir(day1, con, STAGE_VALUES)
        assert snapshot(con) == before
    [problem] = exc.value.problems
    assert (problem.file, problem.field) == (str(new), column)
    assert problem.message.startswith(message)


def test_a_new_part_broken_past_its_footer_is_named_and_nothing_written(day1: Path) -> None:
    """Appended alone, the new part is the source's one file, but the source is shown as its
    folder: the error named `contacts/`, with DuckDB's words naming no file."""
    from pipelines.errors import InputError

    with duckdb.connect() as con:
        load_data_dir(day1, con, STAGE_VALUES)
        before = snapshot(con)
        new = part(day1, "contacts", "2026-03-02", """\
            contact_id,created_at,source,persona,seniority,country
            C4,2026-03-02T10:00:00Z,organic,,,MX
            """)
        damaged = bytearray(new.read_bytes())
        damaged[8:60] = b"\xff" * 52
        new.write_bytes(bytes(damaged))
        with pytest.raises(InputError) as exc:
            load_data_dir(day1, con, STAGE_VALUES)
        assert snapshot(con) == before
    [problem] = exc.value.problems
    assert problem.file == str(new)
    assert problem.message.startswith("cannot read the file; expected Parquet: "), problem.message
