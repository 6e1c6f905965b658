"""A funnel without visits: its first pair, lead->mql, measured as a cohort end to end.

The agreement is tests/fixtures/sla/valid/funnel-without-visits-measures-its-first-pair-as-a-cohort.yaml
(stages lead, mql, sql, customer; lead->mql a cohort within 14 days; UTC; March-April 2026),
written to the warehouse as the pipeline writes it. As of 2026-05-10 both months have closed;
March's cohort matured on 04-15, April's matures on 05-15.

The contacts (UTC):
  c1  lead 03-02, mql 03-05 (3 days: converted)
  c2  lead 03-10, mql 04-20 (41 days: not within the window)
  c3  lead 03-20, no mql
  c4  lead 03-25, mql 04-02 (8 days: converted, though its MQL entry is in April)
  c5  lead 04-05, mql 04-10 (5 days: converted)
  c6  lead 04-20, no mql
March cohort: c1, c4 of c1-c4 = 2 / 4 (by period it would be 1 / 4: only c1's MQL is in March).
April cohort: c5 of c5, c6 = 1 / 2 (by period 3 / 2: c2, c4 and c5 entered mql in April).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest


from . import raw_data

ROOT = Path(__file__).resolve().parents[2]
AGREEMENT = ROOT / "tests/fixtures/sla/valid/funnel-without-visits-measures-its-first-pair-as-a-cohort.yaml"
AS_OF = "2026-05-10 00:00:00"

CONTACTS = {  # contact -> (lead entry, mql entry or None)
    "c1": ("2026-03-02 12:00:00", "2026-03-05 12:00:00"),
    "c2": ("2026-03-10 12:00:00", "2026-04-20 12:00:00"),
    "c3": ("2026-03-20 12:00:00", None),
    "c4": ("2026-03-25 12:00:00", "2026-04-02 12:00:00"),
    "c5": ("2026-04-05 12:00:00", "2026-04-10 12:00:00"),
    "c6": ("2026-04-20 12:00:00", None),
}


@pytest.mark.slow
def test_a_first_pair_that_is_no_visit_pair_is_measured_as_a_cohort(warehouse):
    raw_data.build_leads_and_mqls(warehouse, AGREEMENT, CONTACTS, AS_OF)

    rows = warehouse.query("select period, method, window_days, numerator, denominator, is_final "
                           "from marts.conversions where from_stage = 'lead' order by period")
    assert [tuple(r.values()) for r in rows] == [
        ("2026-03", "cohort", 14, 2, 4, True),
        ("2026-04", "cohort", 14, 1, 2, False),
    ]
    scorecard = warehouse.query("select period, actual, target, is_final from marts.scorecard "
                                "where kpi = 'conversion:lead->mql' order by period")
    assert [tuple(r.values()) for r in scorecard] == [("2026-03", 0.5, 0.5, True), ("2026-04", 0.5, 0.5, False)]


@pytest.mark.slow
def test_a_cohort_is_mature_at_the_very_instant_its_window_ends(warehouse):
    # SPEC §3: mature once the end of P plus W days is at or before the as-of instant. As of
    # 2026-04-15 00:00, exactly March's end + 14 days, March's cohort is final. Facts after
    # as_of are ignored: c2's mql (04-20) and c6's lead (04-20). March: c1, c4 of c1-c4 = 2 / 4;
    # April so far: c5 of c5 = 1 / 1, maturing on 05-15.
    raw_data.build_leads_and_mqls(warehouse, AGREEMENT, CONTACTS, "2026-04-15 00:00:00")

    rows = warehouse.query("select period, numerator, denominator, final_at, is_final "
                           "from marts.conversions where from_stage = 'lead' order by period")
    assert [tuple(r.values()) for r in rows] == [
        ("2026-03", 2, 4, datetime(2026, 4, 15), True),
        ("2026-04", 1, 1, datetime(2026, 5, 15), False),
    ]
    scorecard = warehouse.query("select period, actual, is_final from marts.scorecard "
                                "where kpi = 'conversion:lead->mql' order by period")
    assert [tuple(r.values()) for r in scorecard] == [("2026-03", 0.5, True), ("2026-04", 1.0, False)]
