"""The `data_quality` object of a run (SPEC §7), read back from what the loader recorded, and
the run's warnings about its data."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb

from pipelines.agreement.months import spans
from pipelines.warehouse.connection import warehouse_tables


def data_quality_summary(con: duckdb.DuckDBPyConnection) -> dict:
    """SPEC §7's object, and `unknown_stage_values`: the lifecycle values no agreement lists,
    with their quarantined rows. The count alone sent an analyst to query raw.quarantine for
    the value to add to a stage's crm_values."""
    if not {("raw", "load_report"), ("raw", "quarantine")} <= warehouse_tables(con):
        return {"quarantined_rows": 0, "duplicate_rows": 0, "by_reason": {}, "unknown_stage_values": {}}
    quarantined, duplicates = con.execute(
        "select coalesce(sum(quarantined_rows), 0), coalesce(sum(duplicate_rows), 0) from raw.load_report"
    ).fetchone()
    by_reason = dict(con.execute(
        "select reason, count(*) from raw.quarantine group by reason order by count(*) desc, reason"
    ).fetchall())
    unknown = dict(con.execute("""
        select json_extract_string(record, '$.stage') as value, count(*) as n from raw.quarantine
        where reason = 'unknown_stage' group by value order by n desc, value
    """).fetchall())
    return {"quarantined_rows": int(quarantined), "duplicate_rows": int(duplicates), "by_reason": by_reason,
            "unknown_stage_values": unknown}


def unknown_stage_values_text(values: dict[str, int], shown: int = 5) -> str:
    """The first `shown` values as `'evangelist' 12, 'other' 3`, and how many more."""
    listed = ", ".join(f"{value!r} {n:,}" for value, n in list(values.items())[:shown])
    more = len(values) - shown
    return listed + (f" and {more:,} more value{'s' if more != 1 else ''}" if more > 0 else "")


def revenue_in_other_currencies(con: duckdb.DuckDBPyConnection, months: list[str]) -> list[str]:
    """One line per month of `months` whose revenue sums won deals in another currency than the
    agreement's (marts.revenue). SPEC sums them as they are: the run says so, rather than
    judge euros or pesos as dollars without a word."""
    if not {("marts", "revenue"), ("raw", "agreement_revisions")} <= warehouse_tables(con):
        return []
    # After an upgrade, `report` of a month judged earlier reads the marts the earlier funnelpact
    # built (no run has rebuilt them yet), and those before 2026-11-25 have no currency columns:
    # nothing to warn from, not a BinderException (exit 1).
    if not {"other_currency_deals", "other_currencies"} <= _columns(con, "marts", "revenue"):
        return []
    rows = con.execute("""
        select r.agreement, r.revision, r.period, r.other_currency_deals, r.other_currencies, v.currency
        from marts.revenue as r
        inner join raw.agreement_revisions as v on r.agreement = v.agreement and r.revision = v.revision
        where r.other_currency_deals > 0 and list_contains(?, r.period)
        order by r.agreement, r.period
    """, [months]).fetchall()
    return [f"revenue {period} ({agreement} {revision}): {n:,} won deal{'s' if n != 1 else ''} in another "
            f"currency than {currency} ({others}) {'are' if n != 1 else 'is'} summed as {currency}; convert "
            f"the amounts to {currency} in the data (docs/metrics.md)"
            for agreement, revision, period, n, others, currency in rows]


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    return {name for (name,) in con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
        [schema, table]).fetchall()}


def unmapped_stage_values(con: duckdb.DuckDBPyConnection, months: list[str]) -> list[str]:
    """One line per month of `months`, revision and lifecycle value whose events the revision
    counts for no stage while another revision of the agreement maps the value
    (marts.unmapped_stage_events): most likely a renamed stage whose old value the new
    revision does not list, and those events are missing from its volumes. A value only other
    agreements know is left to the mart: usually it is simply not part of this funnel."""
    if ("marts", "unmapped_stage_events") not in warehouse_tables(con):
        return []
    rows = con.execute("""
        select agreement, revision, period, stage_value, events, mapped_by
        from marts.unmapped_stage_events
        where mapped_by is not null and list_contains(?, period)
        order by agreement, period, stage_value
    """, [months]).fetchall()
    return [f"lifecycle events {period} ({agreement} {revision}): {n:,} event{'s' if n != 1 else ''} "
            f"'{value}' count{'' if n != 1 else 's'} for no stage: {revision} does not list the value, "
            f"which {mapped_by} map{'' if ', ' in mapped_by else 's'} onto a stage; list it in a stage's "
            "crm_values if it still means one (docs/agreement.md)"
            for agreement, revision, period, value, n, mapped_by in rows]


# The CRM's dated columns: where the data ends. Web sessions are left out: daily totals from
# another tool say nothing of whether the CRM export reaches a month.
_DATED = {"contacts": ("created_at",), "lifecycle_events": ("occurred_at",), "activities": ("occurred_at",),
          "deals": ("created_at", "closed_at")}


def _dated_columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """The CRM's dated columns (table, column) the warehouse holds: none until a build has
    placed the months judged (int_agreement_months_as_of), which the data is compared with."""
    tables = warehouse_tables(con)
    if ("intermediate", "int_agreement_months_as_of") not in tables:
        return []
    return [(t, c) for t in _DATED if ("raw", t) in tables for c in _DATED[t]]


def _span(con: duckdb.DuckDBPyConnection, dated: list[tuple[str, str]],
          up_to: datetime | None = None) -> tuple[datetime | None, datetime | None]:
    """The oldest and newest values of the `dated` columns, of those at or before `up_to` when
    given: one scan of each column for both ends (a table of activities holds millions)."""
    bounded = up_to is not None
    each = " union all ".join(f"select min({c}) as lo, max({c}) as hi from raw.{t}" + (f" where {c} <= ?" if bounded else "")
                              for t, c in dated)
    return con.execute(f"select min(lo), max(hi) from ({each})", [up_to] * len(dated) if bounded else []).fetchone()


def months_outside_the_data(con: duckdb.DuckDBPyConnection, months: list[str]) -> list[str]:
    """One line per agreement: its closed months of `months` that begin after the CRM data's
    newest row or end before its oldest (`months_outside_the_data_by_agreement`)."""
    return list(months_outside_the_data_by_agreement(con, months).values())


def months_outside_the_data_by_agreement(con: duckdb.DuckDBPyConnection, months: list[str]) -> dict[str, str]:
    """Per agreement, one line naming its closed months of `months` that begin after the CRM data's
    newest row, or end before its oldest. Judged on no data, their volumes of 0 are breaches,
    and an export that stops early (a backfill past it, a sync that died) or starts late (an
    agreement whose window opens before the CRM's history) read as a collapsed funnel with
    alerts to match. The month under way is left out: on its first morning last night's export
    rightly holds nothing of it yet."""
    dated = _dated_columns(con)
    if not dated:
        return {}
    oldest, newest = _span(con, dated)
    rows = con.execute("""
        select agreement, period, ? is not null and month_start_utc > ? from intermediate.int_agreement_months_as_of
        where is_closed and list_contains(?, period) and (? is null or month_start_utc > ? or month_end_utc <= ?)
        order by agreement, month_start_utc
    """, [newest, newest, months, newest, newest, oldest]).fetchall()
    by_agreement: dict[str, dict[bool, list[str]]] = {}
    for agreement, period, after in rows:
        by_agreement.setdefault(agreement, {}).setdefault(after, []).append(period)

    def part(periods: list[str], after: bool) -> str:
        many = len(periods) > 1
        if newest is None:
            when = "the CRM data holds no dated row"
        elif after:
            when = (f"{'these months begin' if many else 'the month begins'} after the CRM data ends "
                    f"({newest:%Y-%m-%d %H:%M} UTC, its newest contact, event, activity or deal)")
        else:
            when = (f"{'these months end' if many else 'the month ends'} before the CRM data begins "
                    f"({oldest:%Y-%m-%d %H:%M} UTC, its oldest contact, event, activity or deal)")
        return (f"{spans(periods)}: {when}, so {'they are' if many else 'it is'} judged on no data "
                f"and volumes of 0 count as breaches; check that the export reaches {'them' if many else 'it'} "
                "(docs/data.md)")

    return {agreement: f"{agreement} " + "; ".join(part(periods, after) for after, periods in sorted(parts.items()))
            for agreement, parts in by_agreement.items()}


# How long before the as-of instant the CRM data may end while a month under way is judged: a
# long weekend without a new contact, event or activity. Beyond it the export most likely
# stopped (a sync that died), and the month's pace forecasts read every day since as a day
# without leads: at_risk alerts for a funnel that only looks stalled.
STALE_AFTER = timedelta(days=4)


def stale_data(con: duckdb.DuckDBPyConnection, months: list[str]) -> list[str]:
    """One line naming the months under way of `months` when the CRM data's newest row at or
    before the as-of instant is more than STALE_AFTER older than it (dbt's source freshness,
    for the export). A closed month the data does not reach is `months_outside_the_data`'s."""
    dated = _dated_columns(con)
    if not dated:
        return []
    under_way = con.execute("""
        select distinct period, as_of from intermediate.int_agreement_months_as_of
        where not is_closed and list_contains(?, period) order by period
    """, [months]).fetchall()
    if not under_way:
        return []
    as_of = under_way[0][1]
    newest = _span(con, dated, up_to=as_of)[1]
    if newest is not None and as_of - newest <= STALE_AFTER:
        return []
    periods = spans([period for period, _ in under_way])
    since = (f"its newest contact, event, activity or deal is from {newest:%Y-%m-%d %H:%M} UTC, "
             f"{(as_of - newest).total_seconds() / 86400:.1f} days before the as-of instant" if newest is not None
             else "the CRM data holds no row dated before the as-of instant")
    return [f"CRM data {periods}: {since}; the month under way is judged as if nothing came since, and its pace "
            f"forecasts count those days as days without leads. Check that the export is current (docs/data.md)"]


def data_warnings(con: duckdb.DuckDBPyConnection, months: list[str], *,
                  data_end: bool = True) -> dict[str, list[str]]:
    """The run's warnings about the data of `months`, by kind (the report's banners): won deals
    in another currency, events a revision counts for no stage, CRM data that stops days
    before a month under way is judged, and unless `data_end` is False (the report places
    those per agreement) closed months the data does not reach."""
    warnings = {"currency": revenue_in_other_currencies(con, months),
                "stage-values": unmapped_stage_values(con, months),
                "freshness": stale_data(con, months)}
    if data_end:
        warnings["data-end"] = months_outside_the_data(con, months)
    return warnings
