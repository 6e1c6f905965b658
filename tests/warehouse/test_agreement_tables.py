"""The agreement as warehouse tables: month bounds in UTC, targets from the exact planner."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.agreement import load_agreements
from pipelines.warehouse.agreement_tables import write_agreement_tables

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    write_agreement_tables(con, load_agreements(ROOT / "sla"))
    return con


def test_month_bounds_are_local_midnights_in_utc(con: duckdb.DuckDBPyConnection) -> None:
    # Mexico City is UTC-6 all year since it dropped DST in 2022.
    start, end, days = con.execute(
        "select month_start_utc, month_end_utc, days_in_month from raw.agreement_months "
        "where period = '2026-02'"
    ).fetchone()
    assert (start, end, days) == (datetime(2026, 2, 1, 6), datetime(2026, 3, 1, 6), 28)


def test_every_month_has_one_revision_and_every_kpi_a_row(con: duckdb.DuckDBPyConnection) -> None:
    months = con.execute("select period, count(*) from raw.agreement_months group by 1").fetchall()
    assert len(months) == 12 and all(n == 1 for _, n in months)
    per_month = con.execute(
        "select count(distinct kpi) from raw.agreement_targets group by period"
    ).fetchall()
    assert {n for (n,) in per_month} == {17}


def test_targets_come_from_the_plan_and_the_revision_in_force(con: duckdb.DuckDBPyConnection) -> None:
    rows = dict(con.execute(
        "select revision || ' ' || period || ' ' || kpi, target from raw.agreement_targets "
        "where kpi in ('volume:mql', 'handoff:first_touch', 'revenue')"
    ).fetchall())
    assert rows["2026-h1 2026-03 volume:mql"] == 150  # explicit target
    assert rows["2026-h1 2026-02 volume:mql"] == 127  # ceil(25/3 / (0.4*0.5*0.33))
    assert rows["2026-h1 2026-06 revenue"] == 120000  # 600000 * 1.2 / 6.0
    assert rows["2026-h2 2026-07 handoff:first_touch"] == 0.9


def test_each_revision_knows_its_stage_ids_and_crm_values(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute("select value, stage_id from raw.agreement_stage_values "
                       "where revision = '2026-h1' order by stage_id, value").fetchall()
    assert rows == [("customer", "customer"), ("lead", "lead"), ("subscriber", "lead"),
                    ("marketingqualifiedlead", "mql"), ("mql", "mql"), ("opportunity", "opportunity"),
                    ("salesqualifiedlead", "sql"), ("sql", "sql"), ("visit", "visit")]


def test_a_renamed_stage_s_old_id_means_the_new_stage_in_its_revision_only() -> None:
    renamed = ROOT / "tests/fixtures/sla/valid/renamed-stage-listing-the-old-id-as-a-crm-value"
    with duckdb.connect() as con:
        write_agreement_tables(con, load_agreements(renamed))
        rows = con.execute("select revision, stage_id from raw.agreement_stage_values "
                           "where value in ('sql', 'salesqualifiedlead') order by all").fetchall()
    assert rows == [("h1", "sql"), ("h1", "sql"), ("h2", "sal"), ("h2", "sal")]


def test_lead_weights_are_keyed_as_contact_values_are_compared(tmp_path: Path) -> None:
    """A key pasted with a no-break space after it, in capitals and decomposed: SQL's trim()
    left the no-break space, and the weight matched no contact, without a word."""
    import unicodedata

    text = (ROOT / "sla" / "acme-2026-h1.yaml").read_text(encoding="utf-8")
    key = unicodedata.normalize("NFD", "DIRECTEUR GÉNÉRAL") + "\u00a0"
    (tmp_path / "acme.yaml").write_text(text.replace("seniority: {c_level: 3,", f'seniority: {{"{key}": 4, c_level: 3,'),
                                        encoding="utf-8")
    con = duckdb.connect()
    write_agreement_tables(con, load_agreements(tmp_path))
    rows = con.execute("select value, weight from raw.agreement_lead_weights order by value").fetchall()
    assert [(v, float(w)) for v, w in rows] == [("c_level", 3), ("directeur général", 4), ("director", 1.5), ("vp", 2)]


def test_writing_twice_replaces_rather_than_appends(con: duckdb.DuckDBPyConnection) -> None:
    write_agreement_tables(con, load_agreements(ROOT / "sla"))
    assert con.execute("select count(*) from raw.agreement_months").fetchone() == (12,)


def test_each_local_date_starts_at_its_own_utc_instant_across_dst(tmp_path: Path, agreement_file) -> None:
    # Summer time starts 2026-03-29 (the 30th begins at 22:00 UTC, not 23:00) and ends
    # 2026-10-25 (the 26th begins at 23:00 UTC, not 22:00).
    agreement_file(tmp_path, "berlin", "Europe/Berlin", "2026-03", "2026-10")
    con = duckdb.connect()
    write_agreement_tables(con, load_agreements(tmp_path))
    starts = dict(con.execute(
        "select strftime(local_date, '%m-%d'), day_start_utc from raw.agreement_days "
        "where local_date in ('2026-03-01', '2026-03-29', '2026-03-30', '2026-10-25', '2026-10-26')"
    ).fetchall())
    assert starts == {
        "03-01": datetime(2026, 2, 28, 23), "03-29": datetime(2026, 3, 28, 23),
        "03-30": datetime(2026, 3, 29, 22), "10-25": datetime(2026, 10, 24, 22),
        "10-26": datetime(2026, 10, 25, 23),
    }
    per_month = dict(con.execute("select period, count(*) from raw.agreement_days group by 1").fetchall())
    assert per_month == {f"2026-{m:02d}": n for m, n in
                         [(3, 31), (4, 30), (5, 31), (6, 30), (7, 31), (8, 31), (9, 30), (10, 31)]}
