"""End to end: raw tables -> dbt build -> marts.scorecard, against figures worked out by hand.

The agreement `e2e`, revision `r1`, runs March-May 2026 in America/New_York; DST starts on
March 8, so March is 31 days but 743 hours long:
    2026-03: 2026-03-01 05:00 -> 2026-04-01 04:00 UTC (EST -> EDT)
    2026-04: 2026-04-01 04:00 -> 2026-05-01 04:00 UTC
    2026-05: 2026-05-01 04:00 -> 2026-06-01 04:00 UTC (not started as of the run: no rows)
As of 2026-04-10 16:00 UTC: March is closed; April is open with
    days_elapsed = 30 * (9 d 12 h = 228 h) / (720 h) = 9.5.
Funnel: visit, lead, mql, sql, opportunity, customer. first touch 4 h, decision 3 days.
Cohorts: mql->sql 7 days, opportunity->customer 30 days. Lead value: seniority c_level 3,
vp 2; persona data_leader 1.5; the product of both, 1 when not named.

The contacts (UTC):
  p1  c_level, data_leader: lead 03-02 12:00, mql 03-03 12:00, sql 03-05 12:00,
      opportunity 03-10 12:00, customer 03-20 12:00; sales call 03-03 16:00 (exactly 4 h).
  p2  vp: lead 03-01 04:00 (= Feb 28 23:00 local: February, outside the window), mql
      03-01 06:00 (March), no sales touch, recycled 03-05 06:00 (4 days), mql again 03-15
      (no second entry), sql 04-02 10:00 (32 days after the MQL entry).
  p3  data_leader: lead 03-10 10:00, sql 03-12 10:00 (mql implied at 03-12 10:00);
      sales call 03-12 15:00 (5 h).
  p4  manager: sql 03-31 23:00, then an mql event 04-02 (out of order: mql entry is
      03-31 23:00, March); sales call 04-01 02:00 (3 h).
  p5  c_level: lead 04-01 05:00, mql 04-10 14:00; a sales call at 17:00 is after as_of.
  p6  lead 04-03 10:00, mql 04-05 10:00, sales call 04-05 11:00, disqualified 04-09 10:00.
  p7  lead 04-11 (after as_of): ignored.
  p8  lead 03-25 10:00.
"""

from __future__ import annotations

import pytest

from . import raw_data

AS_OF = "2026-04-10 16:00:00"
A, R = "e2e", "r1"


def _build_raw(con) -> None:
    raw_data.insert(con, "agreement_revisions", [
        (A, R, "America/New_York", "USD", 4.0, 0.9, 3.0, 0.8, "Marta", "Joao")])
    raw_data.insert(con, "agreement_months", [
        (A, R, "2026-03", "2026-03-01 05:00:00", "2026-04-01 04:00:00", 31),
        (A, R, "2026-04", "2026-04-01 04:00:00", "2026-05-01 04:00:00", 30),
        (A, R, "2026-05", "2026-05-01 04:00:00", "2026-06-01 04:00:00", 31),
    ])
    raw_data.local_days(con, A, R, "America/New_York", ["2026-03", "2026-04", "2026-05"])
    raw_data.stages(con, A, R)
    raw_data.insert(con, "agreement_conversions", [
        (A, R, "visit", "lead", 0.02, "period", None),
        (A, R, "lead", "mql", 0.3, "period", None),
        (A, R, "mql", "sql", 0.4, "cohort", 7),
        (A, R, "sql", "opportunity", 0.5, "period", None),
        (A, R, "opportunity", "customer", 0.33, "cohort", 30),
    ])
    raw_data.insert(con, "agreement_lead_weights", [
        (A, R, "seniority", "c_level", 3.0), (A, R, "seniority", "vp", 2.0),
        (A, R, "persona", "data_leader", 1.5),
    ])
    raw_data.insert(con, "agreement_targets", [
        (A, R, "2026-03", "volume:mql", 3.0, "at_least", "shared", 0.05, "fail"),
        (A, R, "2026-03", "recycle_rate", 0.3, "at_most", "marketing", 0.0, "warn"),
        # the agreement names sales as the owner of mql->sql, not its from stage's (shared)
        (A, R, "2026-03", "conversion:mql->sql", 0.4, "at_least", "sales", 0.0, "warn"),
        # agreed, but nothing measures it: still a row, without data
        (A, R, "2026-03", "volume:partner", 1.0, "at_least", "marketing", 0.0, "warn"),
        (A, R, "2026-04", "revenue", 20000.0, "at_least", "sales", 0.1, "fail"),
        (A, R, "2026-05", "volume:mql", 5.0, "at_least", "shared", 0.05, "fail"),
    ])
    raw_data.insert(con, "contacts", [
        ("p1", "2026-03-02 12:00:00", "organic", "data_leader", "c_level", "US"),
        ("p2", "2026-03-01 04:00:00", "paid", None, "vp", "US"),
        ("p3", "2026-03-10 10:00:00", "organic", "data_leader", None, "US"),
        ("p4", "2026-03-31 22:00:00", "webinar", None, "manager", "CA"),
        ("p5", "2026-04-01 05:00:00", "organic", None, "c_level", "US"),
        ("p6", "2026-04-03 10:00:00", "organic", None, None, "US"),
        ("p7", "2026-04-11 00:00:00", "organic", None, None, "US"),
        ("p8", "2026-03-25 10:00:00", "organic", None, None, "US"),
    ])
    raw_data.insert(con, "lifecycle_events", [
        ("p1", "lead", "2026-03-02 12:00:00", None),
        ("p1", "mql", "2026-03-03 12:00:00", None),
        ("p1", "sql", "2026-03-05 12:00:00", None),
        ("p1", "opportunity", "2026-03-10 12:00:00", None),
        ("p1", "customer", "2026-03-20 12:00:00", None),
        ("p2", "lead", "2026-03-01 04:00:00", None),
        ("p2", "mql", "2026-03-01 06:00:00", None),
        ("p2", "recycled", "2026-03-05 06:00:00", "no budget"),
        ("p2", "mql", "2026-03-15 06:00:00", None),
        ("p2", "sql", "2026-04-02 10:00:00", None),
        ("p3", "lead", "2026-03-10 10:00:00", None),
        ("p3", "sql", "2026-03-12 10:00:00", None),
        ("p4", "sql", "2026-03-31 23:00:00", None),
        ("p4", "mql", "2026-04-02 00:00:00", None),
        ("p5", "lead", "2026-04-01 05:00:00", None),
        ("p5", "mql", "2026-04-10 14:00:00", None),
        ("p6", "lead", "2026-04-03 10:00:00", None),
        ("p6", "mql", "2026-04-05 10:00:00", None),
        ("p6", "disqualified", "2026-04-09 10:00:00", "student"),
        ("p7", "lead", "2026-04-11 00:00:00", None),
        ("p8", "lead", "2026-03-25 10:00:00", None),
    ])
    raw_data.insert(con, "activities", [
        ("a1", "p1", "2026-03-03 16:00:00", "sales", "call"),
        ("a2", "p3", "2026-03-12 15:00:00", "sales", "call"),
        ("a3", "p4", "2026-04-01 02:00:00", "sales", "email"),
        ("a4", "p5", "2026-04-10 17:00:00", "sales", "call"),
        ("a5", "p6", "2026-04-05 11:00:00", "sales", "call"),
        ("a6", "p2", "2026-03-01 07:00:00", "marketing", "email"),
    ])
    raw_data.insert(con, "deals", [
        ("d1", "p1", "2026-03-10 12:00:00", "2026-03-20 12:00:00", "won", 30000, "USD"),
        # 03:30 UTC on April 1 is 23:30 on March 31 in New York: March
        ("d2", None, "2026-03-15 00:00:00", "2026-04-01 03:30:00", "won", 12000.50, "USD"),
        ("d3", None, "2026-03-15 00:00:00", "2026-03-20 00:00:00", "lost", 5000, "USD"),
        ("d4", None, "2026-04-01 00:00:00", "2026-04-05 00:00:00", "won", 8000, "USD"),
        ("d5", None, "2026-04-01 00:00:00", "2026-04-10 17:00:00", "won", 99999, "USD"),
        ("d6", None, "2026-04-01 00:00:00", None, "open", 1000, "USD"),
    ])
    raw_data.insert(con, "web_sessions", [
        ("2026-02-28", "organic", 999),  # February
        ("2026-03-01", "organic", 100),
        ("2026-03-31", "paid", 300),
        ("2026-04-01", "organic", 50),
        ("2026-04-10", "organic", 30),   # begun (04-10 04:00 UTC) by as_of
        ("2026-04-11", "organic", 1000),  # not begun
        ("2026-05-01", "organic", 7),
    ])
    # The loader's report, by hand: 60 rows read, 4 quarantined.
    raw_data.insert(con, "load_report", [
        ("contacts", True, 10, 8, 0, 2),
        ("lifecycle_events", True, 21, 21, 0, 0),
        ("activities", True, 7, 6, 0, 1),
        ("deals", True, 6, 6, 0, 0),
        ("web_sessions", True, 16, 7, 8, 1),
    ])


def _row(owner, target, actual, direction=None, forecast=None, is_final=True, has_data=True,
         tolerance=None, severity=None):
    return dict(owner=owner, target=target, actual=actual, direction=direction, forecast=forecast,
                is_final=is_final, has_data=has_data, tolerance=tolerance, severity=severity)


PACE = 30 / 9.5  # April: days_in_month / days_elapsed

EXPECTED = {
    # ---- March (closed) --------------------------------------------------------------
    # visits: 100 (03-01) + 300 (03-31) = 400; Feb 28 is February
    ("2026-03", "volume:visit"): _row("marketing", None, 400),
    # leads: p1, p3, p4 (implied by its sql), p8 = 4; p2's lead is February locally
    ("2026-03", "volume:lead"): _row("marketing", None, 4),
    # MQLs: p1, p2 (once, despite re-qualifying), p3 (implied), p4 (out of order) = 4
    ("2026-03", "volume:mql"): _row("shared", 3, 4, "at_least", tolerance=0.05, severity="fail"),
    ("2026-03", "volume:sql"): _row("shared", None, 3),           # p1, p3, p4
    ("2026-03", "volume:opportunity"): _row("sales", None, 1),    # p1
    ("2026-03", "volume:customer"): _row("sales", None, 1),       # p1
    # p1 3 * 1.5 = 4.5, p2 2, p3 1.5, p4 1 -> 9
    ("2026-03", "weighted_volume:mql"): _row("shared", None, 9.0),
    ("2026-03", "conversion:visit->lead"): _row("marketing", None, 4 / 400),
    ("2026-03", "conversion:lead->mql"): _row("marketing", None, 4 / 4),
    # cohort: p1 (2 d), p3 (0 d), p4 (0 d) within 7 days, p2 (32 d) not: 3 / 4;
    # mature: 04-01 04:00 + 7 d = 04-08 04:00 <= as_of
    # owned by sales, as its target says (the default would be mql's owner, shared)
    ("2026-03", "conversion:mql->sql"): _row("sales", 0.4, 3 / 4, "at_least", tolerance=0.0,
                                             severity="warn"),
    ("2026-03", "conversion:sql->opportunity"): _row("shared", None, 1 / 3),
    # cohort p1: customer 10 days after opportunity: 1 / 1; matures 05-01 04:00: not yet
    ("2026-03", "conversion:opportunity->customer"): _row("sales", None, 1.0, is_final=False),
    # p1 exactly 4 h (in time), p2 none (breach), p3 5 h (breach), p4 3 h (in time): 2 / 4
    ("2026-03", "handoff:first_touch"): _row("sales", None, 2 / 4),
    # p1 sql after 2 d, p3 and p4 at once (in time); p2 recycled after 4 d (breach): 3 / 4
    ("2026-03", "handoff:decision"): _row("sales", None, 3 / 4),
    # p2 recycled of 4 MQLs
    ("2026-03", "recycle_rate"): _row("marketing", 0.3, 1 / 4, "at_most", tolerance=0.0,
                                      severity="warn"),
    # d1 30000 + d2 12000.50 (closed 23:30 local on March 31); d3 lost
    ("2026-03", "revenue"): _row("sales", None, 42000.50),
    ("2026-03", "data_quality:quarantine_rate"): _row("shared", None, 4 / 60),
    ("2026-03", "volume:partner"): _row("marketing", 1.0, None, "at_least", has_data=False,
                                        tolerance=0.0, severity="warn"),
    # ---- April (open, 9.5 of 30 days elapsed) -------------------------------------------
    # 50 (04-01) + 30 (04-10); 04-11 has not begun
    ("2026-04", "volume:visit"): _row("marketing", None, 80, forecast=80 * PACE, is_final=False),
    ("2026-04", "volume:lead"): _row("marketing", None, 2, forecast=2 * PACE, is_final=False),
    ("2026-04", "volume:mql"): _row("shared", None, 2, forecast=2 * PACE, is_final=False),
    ("2026-04", "volume:sql"): _row("shared", None, 1, forecast=1 * PACE, is_final=False),  # p2
    ("2026-04", "volume:opportunity"): _row("sales", None, 0, forecast=0.0, is_final=False),
    ("2026-04", "volume:customer"): _row("sales", None, 0, forecast=0.0, is_final=False),
    # p5 3, p6 1
    ("2026-04", "weighted_volume:mql"): _row("shared", None, 4.0, forecast=4 * PACE,
                                             is_final=False),
    ("2026-04", "conversion:visit->lead"): _row("marketing", None, 2 / 80, is_final=False),
    ("2026-04", "conversion:lead->mql"): _row("marketing", None, 2 / 2, is_final=False),
    ("2026-04", "conversion:mql->sql"): _row("shared", None, 0 / 2, is_final=False),
    ("2026-04", "conversion:sql->opportunity"): _row("shared", None, 0 / 1, is_final=False),
    # nobody entered opportunity in April: no rate
    ("2026-04", "conversion:opportunity->customer"): _row("sales", None, None, is_final=False),
    # p5 pending (deadline 18:00 > as_of), p6 in time: 1 / 1
    ("2026-04", "handoff:first_touch"): _row("sales", None, 1.0, is_final=False),
    # p5 pending, p6 disqualified after 4 days: 0 / 1
    ("2026-04", "handoff:decision"): _row("sales", None, 0.0, is_final=False),
    ("2026-04", "recycle_rate"): _row("marketing", None, 0 / 2, is_final=False),
    # d4 8000; d5 closes after as_of
    ("2026-04", "revenue"): _row("sales", 20000.0, 8000.0, "at_least", forecast=8000 * PACE,
                                 is_final=False, tolerance=0.1, severity="fail"),
    ("2026-04", "data_quality:quarantine_rate"): _row("shared", None, 4 / 60, is_final=False),
}


@pytest.mark.slow
def test_scorecard_matches_the_figures_worked_out_by_hand(warehouse):
    with warehouse.connect() as con:
        _build_raw(con)

    warehouse.dbt("build", as_of=AS_OF, exclude=["resource_type:unit_test"])

    rows = warehouse.query("select * from marts.scorecard order by period, kpi")
    assert [list(r) for r in rows[:1]] == [[
        "period", "kpi", "owner", "target", "actual", "direction", "forecast", "is_final",
        "has_data", "days_elapsed", "days_in_month", "tolerance", "severity", "agreement",
        "revision", "final_at", "as_of",
    ]]
    got = {(r["period"], r["kpi"]): r for r in rows}
    assert sorted(got) == sorted(EXPECTED)
    for key, expected in EXPECTED.items():
        row = got[key]
        for column, value in expected.items():
            if isinstance(value, float):
                assert row[column] == pytest.approx(value, rel=1e-12), (key, column)
            else:
                assert row[column] == value, (key, column)
        assert (row["agreement"], row["revision"]) == (A, R)
    march = {(r["days_elapsed"], r["days_in_month"]) for r in rows if r["period"] == "2026-03"}
    april = {(r["days_elapsed"], r["days_in_month"]) for r in rows if r["period"] == "2026-04"}
    assert march == {(31.0, 31)}
    assert len(april) == 1 and april.pop() == (pytest.approx(9.5), 30)


@pytest.mark.slow
def test_hand_offs_per_mql_carry_their_status_as_of_the_run(warehouse):
    with warehouse.connect() as con:
        _build_raw(con)

    warehouse.dbt("build", as_of=AS_OF, select=["+mql_handoffs"],
                  exclude=["resource_type:unit_test"])

    rows = warehouse.query("select contact_id, period, first_touch_status, decision, "
                           "decision_status from marts.mql_handoffs order by contact_id")
    assert [tuple(r.values()) for r in rows] == [
        ("p1", "2026-03", "in_time", "sql", "in_time"),
        ("p2", "2026-03", "breach", "recycled", "breach"),
        ("p3", "2026-03", "breach", "sql", "in_time"),
        ("p4", "2026-03", "in_time", "sql", "in_time"),
        ("p5", "2026-04", "pending", None, "pending"),
        ("p6", "2026-04", "in_time", "disqualified", "breach"),
    ]


@pytest.mark.slow
def test_a_cohort_is_final_at_the_instant_its_window_ends(warehouse):
    # SPEC section 3: mature once the end of P plus W days is at or before the as-of instant.
    # March's mql->sql cohort (7 days) matures at 04-01 04:00 + 7 d = 04-08 04:00 UTC exactly;
    # opportunity->customer (30 days) only at 05-01 04:00.
    with warehouse.connect() as con:
        _build_raw(con)

    warehouse.dbt("build", as_of="2026-04-08 04:00:00", select=["+scorecard"], exclude=["resource_type:unit_test"])

    rows = warehouse.query("select kpi, is_final from marts.scorecard where period = '2026-03' "
                           "and kpi in ('conversion:mql->sql', 'conversion:opportunity->customer', 'volume:mql')")
    assert {r["kpi"]: r["is_final"] for r in rows} == {
        "conversion:mql->sql": True, "conversion:opportunity->customer": False, "volume:mql": True}
