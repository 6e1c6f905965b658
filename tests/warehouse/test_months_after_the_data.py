"""A closed month that begins after the CRM data's newest row, or ends before its oldest, is
judged on no data: its volumes of 0 are breaches. The run says so, rather than alert on a funnel that only looks collapsed
because the export stops early (a backfill past its end, a sync that died). A month under
way judged days after the data stops is named too (`stale_data`).

The agreement `ends`, revision `r1`, runs March-June 2026 in UTC.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from pipelines.warehouse.summary import data_warnings, months_outside_the_data, stale_data

from . import raw_data

pytestmark = pytest.mark.slow

MONTHS = ["2026-03", "2026-04", "2026-05", "2026-06"]
ENDS = "2026-04-02 10:00 UTC, its newest contact, event, activity or deal"


def _build(warehouse, as_of: str, deals=()) -> None:
    with warehouse.connect() as con:
        raw_data.utc_revision(con, "ends", "r1", MONTHS)
        raw_data.insert(con, "contacts", [("C1", datetime(2026, 3, 1, 9), None, None, None, None)])
        raw_data.insert(con, "lifecycle_events", [("C1", "lead", datetime(2026, 4, 2, 10), None)])
        raw_data.insert(con, "deals", deals)
    warehouse.dbt("build", as_of=as_of, select=["+int_agreement_months_as_of"], exclude=["resource_type:unit_test"])


def test_closed_months_after_the_newest_row_are_named_and_the_months_it_reaches_are_not(warehouse):
    _build(warehouse, "2026-07-15 00:00:00")
    with warehouse.connect() as con:
        # April began before the data's end (2026-04-02): it holds data, and is not named.
        assert months_outside_the_data(con, MONTHS) == [
            f"ends 2026-05..2026-06: these months begin after the CRM data ends ({ENDS}), so they are "
            "judged on no data and volumes of 0 count as breaches; check that the export reaches them (docs/data.md)"]
        assert months_outside_the_data(con, ["2026-03", "2026-04"]) == []  # only the months judged
        assert data_warnings(con, ["2026-06"])["data-end"] == [
            f"ends 2026-06: the month begins after the CRM data ends ({ENDS}), so it is judged on no data "
            "and volumes of 0 count as breaches; check that the export reaches it (docs/data.md)"]


def test_closed_months_before_the_oldest_row_are_named_too(warehouse):
    """An agreement whose window opens before the CRM's history: March, judged on no data,
    was a funnel of zeros with every volume breached, and nothing said why."""
    with warehouse.connect() as con:
        raw_data.utc_revision(con, "ends", "r1", MONTHS)
        raw_data.insert(con, "contacts", [("C1", datetime(2026, 4, 5, 10), None, None, None, None)])
        raw_data.insert(con, "lifecycle_events", [("C1", "lead", datetime(2026, 4, 20, 8), None)])
    warehouse.dbt("build", as_of="2026-07-15 00:00:00", select=["+int_agreement_months_as_of"],
                  exclude=["resource_type:unit_test"])
    with warehouse.connect() as con:
        assert months_outside_the_data(con, MONTHS) == [
            "ends 2026-03: the month ends before the CRM data begins (2026-04-05 10:00 UTC, its oldest contact, "
            "event, activity or deal), so it is judged on no data and volumes of 0 count as breaches; check that "
            "the export reaches it (docs/data.md); 2026-05..2026-06: these months begin after the CRM data ends "
            "(2026-04-20 08:00 UTC, its newest contact, event, activity or deal), so they are judged on no data "
            "and volumes of 0 count as breaches; check that the export reaches them (docs/data.md)"]
        assert months_outside_the_data(con, ["2026-04"]) == []  # April holds the data


def test_a_deal_closed_later_extends_the_data_and_the_month_under_way_is_not_named(warehouse):
    # The deal closes at May's first instant: May begins at the data's end, not after it.
    _build(warehouse, "2026-06-10 00:00:00",
           deals=[("D1", "C1", datetime(2026, 3, 5), datetime(2026, 5, 1), "won", 10, "USD")])
    with warehouse.connect() as con:
        # June is under way (as of 2026-06-10): last night's export may rightly hold nothing of it.
        assert months_outside_the_data(con, MONTHS) == []


def test_a_warehouse_without_crm_rows_says_it_holds_none(warehouse):
    with warehouse.connect() as con:
        raw_data.utc_revision(con, "ends", "r1", MONTHS)
    warehouse.dbt("build", as_of="2026-04-15 00:00:00", select=["+int_agreement_months_as_of"],
                  exclude=["resource_type:unit_test"])
    with warehouse.connect() as con:
        assert months_outside_the_data(con, MONTHS) == [
            "ends 2026-03: the CRM data holds no dated row, so it is judged on no data and volumes of 0 count "
            "as breaches; check that the export reaches it (docs/data.md)"]


def test_a_month_under_way_judged_days_after_the_data_stops_is_named(warehouse):
    # The export died on 2026-04-02 10:00; on the 12th, April's pace forecast read ten days
    # without a lead as a stalled funnel (at_risk alerts), and nothing said why.
    _build(warehouse, "2026-04-12 06:00:00")
    with warehouse.connect() as con:
        assert stale_data(con, MONTHS) == [
            "CRM data 2026-04: its newest contact, event, activity or deal is from 2026-04-02 10:00 UTC, 9.8 days "
            "before the as-of instant; the month under way is judged as if nothing came since, and its pace "
            "forecasts count those days as days without leads. Check that the export is current (docs/data.md)"]
        assert data_warnings(con, ["2026-04"])["freshness"] == stale_data(con, MONTHS)
        assert stale_data(con, ["2026-03"]) == []  # a closed month: months_outside_the_data's


def test_data_at_most_4_days_old_is_not_named(warehouse):
    _build(warehouse, "2026-04-06 10:00:00")  # exactly 4 days after the newest row: a long weekend
    with warehouse.connect() as con:
        assert stale_data(con, MONTHS) == []


def test_only_rows_up_to_the_as_of_instant_count(warehouse):
    # As of 2026-03-20 the lead of 04-02 is not known yet, as every fact after the instant is
    # ignored: the newest row then is C1's creation, 18.6 days before.
    _build(warehouse, "2026-03-20 00:00:00")
    with warehouse.connect() as con:
        [stale] = stale_data(con, MONTHS)
    assert stale.startswith("CRM data 2026-03: its newest contact, event, activity or deal is from 2026-03-01 "
                            "09:00 UTC, 18.6 days before the as-of instant"), stale
