"""`dbt build` (models, data tests, unit tests) passes on a small data set, with the
agreement tables written from sla/ by pipelines.warehouse.agreement_tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import raw_data

SLA_DIR = Path(__file__).resolve().parents[2] / "sla"


@pytest.mark.slow
def test_dbt_build_passes_and_absent_deals_are_no_data(warehouse):
    from pipelines.agreement.load import load_agreements
    from pipelines.warehouse.agreement_tables import write_agreement_tables

    with warehouse.connect() as con:
        write_agreement_tables(con, load_agreements(SLA_DIR))
        raw_data.insert(con, "contacts", [
            ("c1", "2026-01-02 00:00:00", "organic", "data_leader", "c_level", "MX"),
            ("c2", "2026-06-20 00:00:00", "webinar", None, "vp", "US"),
        ])
        raw_data.insert(con, "lifecycle_events", [
            ("c1", "lead", "2026-01-02 10:00:00", None),
            ("c1", "sql", "2026-01-05 10:00:00", None),
            ("c2", "mql", "2026-06-30 10:00:00", None),
            ("c2", "recycled", "2026-07-02 10:00:00", "no budget"),
            ("c2", "mql", "2026-07-10 10:00:00", None),
        ])
        raw_data.insert(con, "activities", [("a1", "c2", "2026-06-30 12:00:00", "sales", "call")])
        raw_data.insert(con, "web_sessions", [("2026-01-01", "organic", 100)])
        raw_data.load_report(con, absent={"deals"})

    run = warehouse.dbt("build", as_of="2026-07-15 00:00:00")

    kinds = {r.node.resource_type for r in run.result.result.results}
    assert {"model", "test", "unit_test"} <= {str(k).split(".")[-1].lower() for k in kinds}
    revenue = warehouse.query(
        "select period, actual, has_data from marts.scorecard where kpi = 'revenue' order by period")
    assert [r["period"] for r in revenue] == [f"2026-0{m}" for m in range(1, 8)]
    assert all(r["actual"] is None and r["has_data"] is False for r in revenue)
    # Both revisions judge their own months; c2's MQL entry (June 30, UTC-6: still June
    # locally) belongs to the first half-year, whose revision is in force for June.
    handoffs = warehouse.query("select revision, period, contact_id from marts.mql_handoffs "
                               "order by contact_id")
    assert handoffs == [
        {"revision": "2026-h1", "period": "2026-01", "contact_id": "c1"},
        {"revision": "2026-h1", "period": "2026-06", "contact_id": "c2"},
    ]
