"""Hand-built raw.* tables for the warehouse tests.

The CRM tables are created from `pipelines.data.tables.TABLES` (what the loader creates);
`load_report`, `quarantine` and the agreement tables are hand-written SQL that follows
docs/architecture.md, so the dbt models are tested against the documented contract and not
against whatever the Python writers happen to produce.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import duckdb

from pipelines.data.tables import TABLES

RAW_DDL = {
    "load_report": "table_name varchar, present boolean, rows_read bigint, rows_loaded bigint, "
    "duplicate_rows bigint, quarantined_rows bigint",
    "quarantine": "table_name varchar, source_file varchar, row_number bigint, reason varchar, "
    "record varchar",
    "agreement_revisions": "agreement varchar, revision varchar, timezone varchar, "
    "currency varchar, first_touch_hours double, first_touch_attainment double, "
    "decision_days double, decision_attainment double, marketing_owner varchar, "
    "sales_owner varchar",
    "agreement_months": "agreement varchar, revision varchar, period varchar, "
    "month_start_utc timestamp, month_end_utc timestamp, days_in_month integer",
    "agreement_days": "agreement varchar, revision varchar, period varchar, local_date date, "
    "day_start_utc timestamp",
    "agreement_stages": "agreement varchar, revision varchar, stage_id varchar, "
    "position integer, label varchar, owner varchar, definition varchar",
    "agreement_stage_values": "agreement varchar, revision varchar, value varchar, stage_id varchar",
    "agreement_ignored_values": "agreement varchar, revision varchar, value varchar",
    "agreement_conversions": "agreement varchar, revision varchar, from_stage varchar, "
    "to_stage varchar, rate double, method varchar, window_days integer",
    "agreement_lead_weights": "agreement varchar, revision varchar, dimension varchar, "
    "value varchar, weight decimal(28, 6)",
    "agreement_targets": "agreement varchar, revision varchar, period varchar, kpi varchar, "
    "target double, direction varchar, owner varchar, tolerance double, severity varchar",
}

DEFAULT_STAGES = [
    ("visit", "marketing"),
    ("lead", "marketing"),
    ("mql", "shared"),
    ("sql", "shared"),
    ("opportunity", "sales"),
    ("customer", "sales"),
]


def create_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Every raw table, empty."""
    con.execute("create schema if not exists raw")
    for table in TABLES.values():
        cols = ", ".join(f'"{c.name}" {c.type}' for c in table.columns)
        con.execute(f"create or replace table raw.{table.name} ({cols})")
    for name, cols in RAW_DDL.items():
        con.execute(f"create or replace table raw.{name} ({cols})")


def insert(con: duckdb.DuckDBPyConnection, table: str, rows: Iterable[Sequence]) -> None:
    rows = [tuple(r) for r in rows]
    if not rows:
        return
    marks = ", ".join("?" for _ in rows[0])
    con.executemany(f"insert into raw.{table} values ({marks})", rows)


def load_report(con: duckdb.DuckDBPyConnection, absent: Iterable[str] = (),
                rows_read: dict[str, int] | None = None,
                quarantined: dict[str, int] | None = None) -> None:
    """One load_report row per canonical table; row counts taken from the raw tables."""
    absent = set(absent)
    rows_read = rows_read or {}
    quarantined = quarantined or {}
    for name in TABLES:
        loaded = con.execute(f"select count(*) from raw.{name}").fetchone()[0]
        q = quarantined.get(name, 0)
        insert(con, "load_report", [(name, name not in absent, rows_read.get(name, loaded + q),
                                     loaded, 0, q)])


def local_days(con, agreement: str, revision: str, timezone: str, periods: Iterable[str]) -> None:
    """raw.agreement_days for the months: each local date's first instant in UTC
    (months.day_start_utc, pinned across DST by test_agreement_tables)."""
    from datetime import timedelta

    from pipelines.agreement.months import day_start_utc, days_in_month, first_day

    days = [(period, first_day(period) + timedelta(days=n)) for period in periods
            for n in range(days_in_month(period))]
    insert(con, "agreement_days", [(agreement, revision, period, day, day_start_utc(day, timezone))
                                   for period, day in days])


def utc_revision(con, agreement: str, revision: str, periods: Iterable[str]) -> None:
    """A revision in UTC and USD with no hand-off rules, its months and the default stages."""
    from pipelines.agreement.months import days_in_month, month_bounds_utc

    insert(con, "agreement_revisions", [
        (agreement, revision, "UTC", "USD", None, None, None, None, "Marta", "Joao")])
    insert(con, "agreement_months", [
        (agreement, revision, period, *month_bounds_utc(period, "UTC"), days_in_month(period))
        for period in periods])
    stages(con, agreement, revision)


def stages(con, agreement: str, revision: str, stage_list=DEFAULT_STAGES) -> None:
    """The stages, each known by its id alone (no crm_values)."""
    insert(con, "agreement_stages", [
        (agreement, revision, sid, pos, sid.title(), owner, f"definition of {sid}")
        for pos, (sid, owner) in enumerate(stage_list)
    ])
    insert(con, "agreement_stage_values", [(agreement, revision, sid, sid) for sid, _ in stage_list])


def build_leads_and_mqls(warehouse, sla, contacts: dict[str, tuple[str, str | None]], as_of: str) -> None:
    """The agreements under `sla` as the pipeline writes them, and contacts with a lead entry
    and perhaps an MQL entry (contact -> (lead, mql or None), UTC), built up to the scorecard
    as of `as_of`; no activities, deals or web sessions were delivered."""
    from pipelines.agreement import load_agreements
    from pipelines.warehouse.agreement_tables import write_agreement_tables

    with warehouse.connect() as con:
        write_agreement_tables(con, load_agreements(sla))
        insert(con, "contacts", [(c, lead, "organic", None, None, "US") for c, (lead, _) in contacts.items()])
        insert(con, "lifecycle_events", [
            (c, stage, at, None)
            for c, (lead, mql) in contacts.items()
            for stage, at in (("lead", lead), ("mql", mql)) if at is not None
        ])
        load_report(con, absent=["activities", "deals", "web_sessions"])
    warehouse.dbt("build", as_of=as_of, select=["+scorecard"], exclude=["resource_type:unit_test"])
