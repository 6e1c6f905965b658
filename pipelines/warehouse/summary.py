"""The `data_quality` object of a run (SPEC §7), read back from what the loader recorded."""

from __future__ import annotations

import duckdb


def data_quality_summary(con: duckdb.DuckDBPyConnection) -> dict:
    tables = {r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'raw'"
    ).fetchall()}
    if not {"load_report", "quarantine"} <= tables:
        return {"quarantined_rows": 0, "duplicate_rows": 0, "by_reason": {}}
    quarantined, duplicates = con.execute(
        "select coalesce(sum(quarantined_rows), 0), coalesce(sum(duplicate_rows), 0) from raw.load_report"
    ).fetchone()
    by_reason = dict(con.execute(
        "select reason, count(*) from raw.quarantine group by reason order by count(*) desc, reason"
    ).fetchall())
    return {"quarantined_rows": int(quarantined), "duplicate_rows": int(duplicates), "by_reason": by_reason}
