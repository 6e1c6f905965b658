"""Revenue from deals as the loader stores them: a real load of CSV files, then dbt.

SPEC §3: Revenue(P) is the sum of `amount` of the deals with status `won` and `closed_at`
in P, whatever their contact. The agreement `rev`, revision `r1`, runs March-April 2026 in
UTC; as of 2026-05-02 both months have closed.
"""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.data.load import load_data_dir

from . import raw_data

pytestmark = pytest.mark.slow

A, R = "rev", "r1"
AS_OF = "2026-05-02 00:00:00"
STAGE_VALUES = {s for s, _ in raw_data.DEFAULT_STAGES}
CONTACTS = """\
    contact_id,created_at,source,persona,seniority,country
    C1,2026-03-01T10:00:00Z,organic,,,MX
    """
EVENTS = """\
    contact_id,stage,occurred_at,reason
    C1,lead,2026-03-01T10:00:00Z,
    """
DEALS_HEADER = "deal_id,contact_id,created_at,closed_at,status,amount,currency\n"


def _load_and_build(warehouse, tmp_path: Path, deals: str):
    """Load a data directory with these deals into the warehouse, build the revenue and
    data-quality marts; return (load report, revenue by period, data_quality row)."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "contacts.csv").write_text(textwrap.dedent(CONTACTS))
    (data / "lifecycle_events.csv").write_text(textwrap.dedent(EVENTS))
    (data / "deals.csv").write_text(DEALS_HEADER + textwrap.dedent(deals))
    with warehouse.connect() as con:
        raw_data.utc_revision(con, A, R, ["2026-03", "2026-04"])
        report = load_data_dir(data, con, STAGE_VALUES)
    warehouse.dbt("build", as_of=AS_OF, select=["+revenue", "+data_quality"],
                  exclude=["resource_type:unit_test"])
    revenue = {r["period"]: (r["won_deals"], r["revenue"]) for r in warehouse.query(
        "select period, won_deals, revenue from marts.revenue order by period")}
    [quality] = warehouse.query("select quarantined_rows, quarantine_rate from marts.data_quality")
    return report, revenue, quality


def test_a_won_deal_of_a_contact_not_in_contacts_is_revenue(warehouse, tmp_path):
    report, revenue, quality = _load_and_build(warehouse, tmp_path, """\
        D1,C1,2026-03-01T00:00:00Z,2026-03-10T12:00:00Z,won,1000,USD
        D2,C9,2026-03-01T00:00:00Z,2026-03-11T12:00:00Z,won,250,USD
        D3,,2026-03-01T00:00:00Z,2026-04-02T12:00:00Z,won,40,USD
        """)
    assert report.quarantined_rows == 0 and report.by_reason == {}
    assert revenue == {"2026-03": (2, 1250.0), "2026-04": (1, 40.0)}
    assert quality == {"quarantined_rows": 0, "quarantine_rate": 0.0}


def test_a_won_deal_without_closed_at_is_loaded_and_counts_in_no_month(warehouse, tmp_path):
    report, revenue, quality = _load_and_build(warehouse, tmp_path, """\
        D1,C1,2026-03-01T00:00:00Z,2026-03-10T12:00:00Z,won,1000,USD
        D2,C1,2026-03-01T00:00:00Z,,won,500,USD
        D3,C1,2026-03-01T00:00:00Z,,lost,70,USD
        """)
    assert report.quarantined_rows == 0 and report.tables["deals"].rows_loaded == 3
    assert revenue == {"2026-03": (1, 1000.0), "2026-04": (0, 0.0)}
    assert quality == {"quarantined_rows": 0, "quarantine_rate": 0.0}


def test_amounts_are_not_rounded_to_cents(warehouse, tmp_path):
    # Dinars (KWD, BHD) have 3 decimal places: 100.005 + 100.005 + 0.004 is 200.014, not the
    # 200.01 (or 200.02) of amounts rounded to cents.
    report, revenue, quality = _load_and_build(warehouse, tmp_path, """\
        D1,C1,2026-03-01T00:00:00Z,2026-04-02T12:00:00Z,won,100.005,KWD
        D2,C1,2026-03-01T00:00:00Z,2026-04-03T12:00:00Z,won,100.005,KWD
        D3,C1,2026-03-01T00:00:00Z,2026-04-04T12:00:00Z,won,0.004,KWD
        """)
    assert report.quarantined_rows == 0
    assert revenue == {"2026-03": (0, 0.0), "2026-04": (3, 200.014)}
    [staged] = warehouse.query("select sum(amount) as total, typeof(sum(amount)) as type "
                               "from staging.stg_crm__deals")
    assert staged == {"total": Decimal("200.014"), "type": "DECIMAL(38,6)"}


def test_won_deals_in_another_currency_are_summed_and_named_in_a_warning(warehouse, tmp_path):
    """SPEC sums amounts as they are; an EUR deal in a USD agreement's revenue was judged as
    dollars without a word."""
    from pipelines.warehouse.summary import revenue_in_other_currencies

    _, revenue, _ = _load_and_build(warehouse, tmp_path, """\
        D1,C1,2026-03-01T00:00:00Z,2026-03-10T12:00:00Z,won,1000,USD
        D2,C1,2026-03-01T00:00:00Z,2026-03-11T12:00:00Z,won,200,EUR
        D3,C1,2026-03-01T00:00:00Z,2026-03-12T12:00:00Z,won,30,eur
        D4,C1,2026-03-01T00:00:00Z,2026-04-12T12:00:00Z,won,4,
        D5,C1,2026-03-01T00:00:00Z,2026-04-13T12:00:00Z,lost,5,MXN
        """)
    assert revenue == {"2026-03": (3, 1230.0), "2026-04": (1, 4.0)}
    with warehouse.connect() as con:
        assert revenue_in_other_currencies(con, ["2026-03", "2026-04"]) == [
            "revenue 2026-03 (rev r1): 2 won deals in another currency than USD (EUR 2) are summed as USD; "
            "convert the amounts to USD in the data (docs/metrics.md)"]
        assert revenue_in_other_currencies(con, ["2026-04"]) == []  # no currency, and a lost deal
