"""Month and day boundaries in zones whose clocks stress the usual assumptions, against an
oracle that never converts a local time to UTC: it walks UTC minute by minute and notes the
first minute each local date is shown (every change in these cases falls on a whole minute).

Cases: DST that skips local midnight (on the 1st of a month, on the last day of one), a
repeated midnight, a gap that spans midnight without starting there, 30-minute DST, 45-minute
offsets, negative DST, Ramadan changes, 2-hour DST, UTC+14 and UTC-12, and whole skipped dates.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

import duckdb
import pytest

from pipelines.agreement.months import day_start_utc, days_elapsed, days_in_month, first_day, month_bounds_utc, month_of

CASES = [
    ("America/Asuncion", "2023-10"),     # 2023-10-01 00:00 skipped: October starts at 01:00 -03
    ("America/Havana", "2020-11"),       # 2020-11-01 01:00 -> 00:00: November's midnight twice
    ("Asia/Beirut", "2024-03"),          # 2024-03-31 00:00 skipped: the month's last day is 23 hours
    ("America/Santiago", "2022-09"),     # 2022-09-11 00:00 skipped
    ("America/Santiago", "2023-04"),     # 2023-04-02 00:00 -> 2023-04-01 23:00: April 1 is 25 hours
    ("America/Toronto", "1919-03"),      # 1919-03-30 23:30 -> 00:30: March 31 begins at 00:30
    ("Australia/Lord_Howe", "2026-04"),  # 02:00 -> 01:30 on April 5: a 24.5-hour day
    ("Australia/Lord_Howe", "2025-10"),  # 02:00 -> 02:30 on October 5
    ("Asia/Kathmandu", "2026-01"),       # +05:45
    ("Pacific/Chatham", "2026-04"),      # +13:45 -> +12:45 on April 5
    ("Europe/Dublin", "2026-10"),        # negative DST: winter is the "daylight" time
    ("Africa/Casablanca", "2026-02"),    # +01 -> +00 for Ramadan
    ("Africa/Casablanca", "2026-03"),    # and back
    ("Antarctica/Troll", "2026-03"),     # +00 -> +02
    ("Antarctica/Troll", "2026-10"),     # +02 -> +00
    ("Pacific/Kiritimati", "2026-01"),   # +14
    ("Pacific/Kiritimati", "1994-12"),   # -10 -> +14: December 31 never happened
    ("Etc/GMT+12", "2026-01"),           # -12
    ("Pacific/Apia", "2011-12"),         # -10 -> +14: December 30 never happened
]


@cache
def oracle_zone(name: str) -> ZoneInfo:
    # The tzdata package's rules (funnelpact's, and DuckDB's), whatever the system holds.
    with resources.files("tzdata.zoneinfo").joinpath(*name.split("/")).open("rb") as file:
        return ZoneInfo.from_file(file, key=name)


@cache
def first_instants(zone: str, period: str) -> dict[date, datetime]:
    """Each local date of the month and the next month's 1st -> the first UTC minute showing
    it; a date never shown starts where the next shown one does (it lasts no time)."""
    first = first_day(period)
    dates = [first + timedelta(days=n) for n in range(days_in_month(period) + 1)]
    tz = oracle_zone(zone)
    seen: dict[date, datetime] = {}
    t = datetime(first.year, first.month, first.day) - timedelta(hours=15)
    end = datetime(dates[-1].year, dates[-1].month, dates[-1].day) + timedelta(hours=15)
    while t <= end:
        seen.setdefault(t.replace(tzinfo=UTC).astimezone(tz).date(), t)
        t += timedelta(minutes=1)
    starts = {}
    for day in reversed(dates):
        starts[day] = seen.get(day) or starts[day + timedelta(days=1)]
    return dict(sorted(starts.items()))


def oracle_days_elapsed(zone: str, period: str, as_of: datetime) -> float:
    """SPEC §4's days elapsed as docs/metrics.md reads it: each ended local day 1, the day under
    way its elapsed share of its own length; a date that never happened 1 once it is passed."""
    starts = list(first_instants(zone, period).values())
    total = 0.0
    for start, end in zip(starts, starts[1:]):
        if end <= as_of:
            total += 1
        elif start < as_of:
            total += (as_of - start) / (end - start)
    return total


@pytest.mark.parametrize(("zone", "period"), CASES)
def test_each_local_date_starts_at_its_first_instant(zone: str, period: str) -> None:
    expected = first_instants(zone, period)
    assert {day: day_start_utc(day, zone) for day in expected} == expected
    days = list(expected.values())
    assert month_bounds_utc(period, zone) == (days[0], days[-1])


@pytest.mark.parametrize(("zone", "day", "start"), [
    # The cases that name the stress, spelt out (the oracle above agrees).
    ("America/Asuncion", date(2023, 10, 1), datetime(2023, 10, 1, 4)),      # 01:00 -03
    ("America/Havana", date(2020, 11, 1), datetime(2020, 11, 1, 4)),         # the first 00:00 (-04)
    ("Asia/Beirut", date(2024, 3, 31), datetime(2024, 3, 30, 22)),           # 01:00 +03
    ("America/Toronto", date(1919, 3, 31), datetime(1919, 3, 31, 4, 30)),    # 00:30 -04, not 01:00
    ("Pacific/Apia", date(2011, 12, 30), datetime(2011, 12, 30, 10)),        # lasts no time
    ("Pacific/Apia", date(2011, 12, 31), datetime(2011, 12, 30, 10)),
    ("Pacific/Kiritimati", date(1995, 1, 1), datetime(1994, 12, 31, 10)),    # December ends on the 30th
])
def test_a_skipped_or_repeated_midnight_starts_the_day_at_its_first_instant(zone, day, start) -> None:
    assert day_start_utc(day, zone) == start


def instants(zone: str, period: str) -> list[datetime]:
    """Around every date that is not 24 hours long: its start and a second either side, its
    middle, and the start of the next date plus a second."""
    starts = list(first_instants(zone, period).values())
    out = [starts[0], starts[-1] - timedelta(seconds=1), starts[-1]]
    for i, (start, end) in enumerate(zip(starts, starts[1:])):
        if end - start != timedelta(hours=24):
            out += [start - timedelta(seconds=1), start, start + timedelta(seconds=1), start + (end - start) / 2,
                    end + timedelta(seconds=1)]
    return out


@pytest.mark.parametrize(("zone", "period"), CASES)
def test_days_elapsed_count_local_days_at_the_odd_instants(zone: str, period: str) -> None:
    # Apia's and Kiritimati's skipped dates made days_elapsed divide by their zero length
    # (ZeroDivisionError in the report and in every alert with a pace forecast).
    for as_of in instants(zone, period):
        assert days_elapsed(period, zone, as_of) == pytest.approx(oracle_days_elapsed(zone, period, as_of), abs=1e-12), as_of


@pytest.mark.parametrize(("zone", "period"), CASES)
def test_an_instant_a_second_either_side_of_a_month_boundary_is_in_its_local_month(zone: str, period: str) -> None:
    start, end = month_bounds_utc(period, zone)
    before = f"{first_day(period) - timedelta(days=1):%Y-%m}"
    assert [month_of(t, zone) for t in (start - timedelta(seconds=1), start, end - timedelta(seconds=1))] \
        == [before, period, period]


# Zones whose rules the system's zoneinfo files (tzdata 2025b on the test machine) and the tzdata
# package (2026f, like DuckDB's ICU) disagree on after 2026: British Columbia, Alberta and
# Manitoba keep summer time from November 2026, Morocco ends its permanent +01.
DIVERGED = ["America/Vancouver", "America/Edmonton", "America/Winnipeg", "Africa/Casablanca",
            "America/Havana", "Europe/Chisinau", "America/Asuncion", "Asia/Kathmandu", "Pacific/Apia"]


@pytest.mark.parametrize("zone", DIVERGED)
def test_months_begin_where_the_importers_read_local_midnight(zone: str) -> None:
    # The importers convert an export's local times in DuckDB (ICU's rules); a month's bounds
    # come from Python. With the system's older rules, Vancouver's December 2026 began an hour
    # after the importers' December 1 00:00, so that hour's events counted in November.
    from pipelines.data.importers.times import Times

    months = [f"{y}-{m:02d}" for y in (2026, 2027) for m in range(1, 13)]
    with duckdb.connect() as con:
        read = dict(con.execute(f"select m, {Times(zone).instant('v')} from "
                                "(select m, m || '-01 00:00:00' as v from unnest(?::varchar[]) t(m))",
                                [months]).fetchall())
    assert {m: month_bounds_utc(m, zone)[0] for m in months} == read
