"""Days elapsed in a month are local calendar days, also across a DST change (SPEC §4's pace
forecast); the report uses this, the warehouse's int_agreement_months_as_of the same rule."""

from __future__ import annotations

from datetime import datetime

import pytest

from pipelines.agreement.months import days_elapsed

NY = "America/New_York"  # DST starts 2026-03-08: March 8 is 23 hours long


@pytest.mark.parametrize(("as_of", "expected"), [
    (datetime(2026, 3, 1, 5), 0.0),                 # local midnight of March 1
    (datetime(2026, 3, 1, 4), 0.0),                 # before the month: nothing yet
    (datetime(2026, 3, 10, 4), 9.0),                # local midnight of March 10: 215 real hours
    (datetime(2026, 3, 8, 16), 7 + 11 / 23),        # noon EDT on the 23-hour day
    (datetime(2026, 3, 20, 16), 19.5),              # noon, an ordinary day
    (datetime(2026, 4, 1, 4), 31.0),                # the month's end
    (datetime(2026, 5, 1), 31.0),                   # after it: never more than the month
])
def test_days_elapsed_count_local_days_across_dst(as_of: datetime, expected: float) -> None:
    assert days_elapsed("2026-03", NY, as_of) == pytest.approx(expected, abs=1e-12)


def test_a_25_hour_day_counts_one_day() -> None:
    # DST ends 2026-11-01 in New York: November 1 is 25 hours; November 2 starts at 05:00 UTC.
    assert days_elapsed("2026-11", NY, datetime(2026, 11, 2, 5)) == 1.0
    assert days_elapsed("2026-11", NY, datetime(2026, 11, 1, 4) + (datetime(2026, 11, 2, 5) - datetime(2026, 11, 1, 4)) / 2) == 0.5


@pytest.mark.parametrize("text", ["2026-11-10T16:00:00.5Z", "2026-11-10T16:00:00.999999+00:00",
                                  "2026-11-10T17:00:00.25+01:00", "2026-11-10 16:00:00.5"])
def test_an_as_of_is_whole_seconds_a_fraction_is_dropped(text: str) -> None:
    # dbt judges the facts as of the whole second: a judgement kept with the fraction read
    # as another build than the facts it judged (the report's stale banner).
    from datetime import UTC

    from pipelines.agreement.months import parse_as_of

    assert parse_as_of(text) == datetime(2026, 11, 10, 16, 0, 0, tzinfo=UTC)


def test_a_naive_instant_is_utc_when_its_local_month_is_found() -> None:
    # SPEC §2: a timestamp without an offset is UTC. 03:00 UTC on April 1 is still March 31
    # (21:00) in Mexico City (UTC-6 all year); read as local time it would be April.
    from pipelines.agreement.months import month_of

    assert month_of(datetime(2026, 4, 1, 3), "America/Mexico_City") == "2026-03"
    assert month_of(datetime(2026, 4, 1, 6), "America/Mexico_City") == "2026-04"
