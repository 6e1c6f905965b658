"""The `data_quality` object of a run (SPEC §7), read back from what the loader recorded."""

from __future__ import annotations

import duckdb

from pipelines.warehouse.connection import warehouse_tables


def data_quality_summary(con: duckdb.DuckDBPyConnection) -> dict:
    if not {("raw", "load_report"), ("raw", "quarantine")} <= warehouse_tables(con):
        return {"quarantined_rows": 0, "duplicate_rows": 0, "by_reason": {}}
    quarantined, duplicates = con.execute(
        "select coalesce(sum(quarantined_rows), 0), coalesce(sum(duplicate_rows), 0) from raw.load_report"
    ).fetchone()
    by_reason = dict(con.execute(
        "select reason, count(*) from raw.quarantine group by reason order by count(*) desc, reason"
    ).fetchall())
    return {"quarantined_rows": int(quarantined), "duplicate_rows": int(duplicates), "by_reason": by_reason}


def revenue_in_other_currencies(con: duckdb.DuckDBPyConnection, months: list[str]) -> list[str]:
    """One line per month of `months` whose revenue sums won deals in another currency than the
    agreement's (marts.revenue). SPEC sums them as they are: the run says so, rather than
    judge euros or pesos as dollars without a word."""
    if not {("marts", "revenue"), ("raw", "agreement_revisions")} <= warehouse_tables(con):
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
