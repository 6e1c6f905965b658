"""Export times the clocks skip or show twice (a DST change), read in the import's zone the
way Python's zoneinfo reads them (fold=0), as the month and day boundaries are: a skipped
time with the offset before the change, a repeated one as its first occurrence. DuckDB's
timezone() took a repeated time as its second occurrence, an hour later than the boundaries'
reading of the same clock time (docs/data.md, Times in exports)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from pipelines.cli import app

from .test_importers import read

# (zone, local time, what happens then)
CASES = [
    ("America/New_York", "2026-03-08 02:30:00", "skipped"),
    ("America/New_York", "2026-11-01 01:30:00", "repeated"),
    ("America/New_York", "2026-11-01 03:00:00", "after the repeated hour, the change within 24 hours"),
    ("America/New_York", "2026-11-01 23:30:00", "the evening after the change"),
    ("America/Havana", "2020-11-01 00:00:00", "repeated midnight on the 1st"),
    ("America/Havana", "2020-11-01 00:59:59", "repeated"),
    ("America/Asuncion", "2023-10-01 00:00:00", "skipped midnight on the 1st"),
    ("America/Santiago", "2023-04-01 23:30:00", "repeated, before midnight"),
    ("Australia/Lord_Howe", "2026-04-05 01:45:00", "repeated half hour"),
    ("Australia/Lord_Howe", "2025-10-05 02:15:00", "skipped half hour"),
    ("Europe/Dublin", "2026-10-25 01:30:00", "repeated (negative DST)"),
    ("Pacific/Chatham", "2026-04-05 03:30:00", "repeated, +13:45 -> +12:45"),
    ("Antarctica/Troll", "2026-10-25 02:30:00", "repeated, 2-hour DST"),
    ("Africa/Casablanca", "2026-02-15 02:30:00", "repeated, Ramadan"),
    ("Pacific/Apia", "2011-12-30 12:00:00", "a date that never happened"),
]


def fold0(zone: str, local: str) -> str:
    from pipelines.agreement.months import zone as tz  # the tzdata package's rules, like DuckDB's

    instant = datetime.fromisoformat(local).replace(tzinfo=tz(zone)).astimezone(UTC)
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(("zone", "local", "what"), CASES)
def test_a_skipped_or_repeated_local_time_is_read_as_zoneinfo_reads_it(tmp_path: Path, zone, local, what) -> None:
    export = tmp_path / "contacts.csv"
    export.write_text(f"Record ID,Create Date,Became a Lead Date\n1,{local},{local}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["import", "hubspot", "--contacts", str(export), "--timezone", zone,
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    (row,) = read(tmp_path / "out", "contacts")
    assert row[1] == fold0(zone, local), what


def test_a_repeated_time_is_its_first_occurrence() -> None:
    # The expectation above spelt out once: 01:30 on New York's night back is 05:30 UTC (EDT).
    assert fold0("America/New_York", "2026-11-01 01:30:00") == "2026-11-01T05:30:00Z"
    assert datetime(2026, 11, 1, 1, 30, tzinfo=ZoneInfo("America/New_York")).utcoffset().total_seconds() == -4 * 3600
