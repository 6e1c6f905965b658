"""A cohort that starts under one revision and matures under the next (SPEC §1, §3, §6).

The revision in force for a month judges that month: March's cohort keeps March's revision —
its rate, its window and so when it matures — though it converts, and matures, in April,
when another revision with another rate and window is in force.

Two revisions of the lead-first funnel (tests/fixtures/sla/valid/funnel-without-visits-…,
UTC): r1 in March measures lead->mql as a cohort within 14 days at 50 %; r2 from April
within 3 days at 80 %. The contacts (UTC):
  c1  lead 03-25, mql 04-02 (8 days: converted within r1's 14 days, not within r2's 3)
  c2  lead 03-10, no mql
  c3  lead 04-05, mql 04-07 (2 days: converted)
  c4  lead 04-10, mql 04-18 (8 days: not within r2's 3 days)
March (r1): c1 of c1, c2 = 1 / 2, mature on 04-15 (April 1 + 14 days), not on 04-04.
April (r2): c3 of c3, c4 = 1 / 2, mature on 05-04.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.agreement import load_agreements
from pipelines.defs.partitions import months_to_judge

from . import raw_data

ROOT = Path(__file__).resolve().parents[2]
FUNNEL = ROOT / "tests/fixtures/sla/valid/funnel-without-visits-measures-its-first-pair-as-a-cohort.yaml"

CONTACTS = {  # contact -> (lead entry, mql entry or None)
    "c1": ("2026-03-25 12:00:00", "2026-04-02 12:00:00"),
    "c2": ("2026-03-10 12:00:00", None),
    "c3": ("2026-04-05 12:00:00", "2026-04-07 12:00:00"),
    "c4": ("2026-04-10 12:00:00", "2026-04-18 12:00:00"),
}


@pytest.fixture
def revisions(tmp_path: Path) -> Path:
    text = FUNNEL.read_text()
    (tmp_path / "r1.yaml").write_text(text.replace("to: 2026-04}", "to: 2026-03}"))
    (tmp_path / "r2.yaml").write_text(
        text.replace("revision: r1", "revision: r2")
        .replace("from: 2026-03, to: 2026-04", "from: 2026-04, to: 2026-04")
        .replace("lead->mql: {rate: 0.5, method: cohort, window_days: 14}",
                 "lead->mql: {rate: 0.8, method: cohort, window_days: 3}"))
    return tmp_path


def _scorecard(warehouse) -> list[tuple]:
    return [tuple(r.values()) for r in warehouse.query(
        "select period, revision, target, actual, is_final from marts.scorecard "
        "where kpi = 'conversion:lead->mql' order by period")]


@pytest.mark.slow
def test_a_cohort_is_judged_by_the_rate_and_window_of_its_own_month_s_revision(warehouse, revisions):
    raw_data.build_leads_and_mqls(warehouse, revisions, CONTACTS, "2026-05-10 00:00:00")
    rows = warehouse.query("select period, revision, window_days, numerator, denominator "
                           "from marts.conversions where from_stage = 'lead' order by period")
    assert [tuple(r.values()) for r in rows] == [("2026-03", "r1", 14, 1, 2), ("2026-04", "r2", 3, 1, 2)]
    assert _scorecard(warehouse) == [("2026-03", "r1", 0.5, 0.5, True), ("2026-04", "r2", 0.8, 0.5, True)]


@pytest.mark.slow
def test_a_cohort_matures_by_its_own_revision_s_window_under_the_next_revision(warehouse, revisions):
    # As of 04-10 r2 is in force, whose 3-day window would have closed March's cohort on
    # 04-04; by r1's 14 days it matures on 04-15, so it is still provisional.
    raw_data.build_leads_and_mqls(warehouse, revisions, CONTACTS, "2026-04-10 00:00:00")
    assert _scorecard(warehouse)[0] == ("2026-03", "r1", 0.5, 0.5, False)


def test_the_default_run_keeps_a_month_while_its_own_revision_s_cohorts_mature(revisions):
    # March settles on 04-15 (r1's 14 days) and stays in the default run a week longer; by
    # r2's 3 days it would have left on 04-11.
    agreements = load_agreements(revisions)
    assert months_to_judge(agreements, datetime(2026, 4, 20, tzinfo=UTC)) == ["2026-03", "2026-04"]
    assert months_to_judge(agreements, datetime(2026, 4, 23, tzinfo=UTC)) == ["2026-04"]
