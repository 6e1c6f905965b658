"""The judged scorecard, stored in the warehouse: what the CLI prints and the report shows.

`judgements.kpi_status` holds the latest judgement of every (agreement, revision, period,
KPI); a run replaces the rows of the months it judged, so backfilling twice leaves the same
table and the report of an old month keeps its last judgement.

`judgements.last_build` holds the run id of the run that last wrote the raw tables or the
marts, and each judgement the one it judged (`build_id`): the report takes its details
(hand-off times, recycle reasons, data quality) from the warehouse as it is, and says so when
that is another build than the month's judgement, also one as of the same instant over other
data. `last_build` also holds the instant the marts were last built as of: a run that builds
some models without loading the data builds them as of it, so all the marts agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from pipelines.agreement.months import naive_utc
from pipelines.warehouse.connection import transaction, warehouse_tables

_TEXT, _NUMBER = ("varchar", pa.string()), ("double", pa.float64())
# column -> (DuckDB type, Arrow type)
COLUMNS: dict[str, tuple[str, pa.DataType]] = {
    "agreement": _TEXT,
    "revision": _TEXT,
    "period": _TEXT,
    "kpi": _TEXT,
    "owner": _TEXT,
    "target": _NUMBER,
    "actual": _NUMBER,
    "forecast": _NUMBER,
    "status": _TEXT,
    "severity": _TEXT,
    "tolerance": _NUMBER,
    "is_final": ("boolean", pa.bool_()),
    "expectation": _TEXT,
    "as_of": ("timestamp", pa.timestamp("us")),
    "run_id": _TEXT,
    "build_id": _TEXT,   # last, so an older table takes it with `add column`
}
_DDL = ", ".join(f"{name} {sql}" for name, (sql, _) in COLUMNS.items())
_SCHEMA = pa.schema([(name, arrow) for name, (_, arrow) in COLUMNS.items()])


def write_judgements(
    con: duckdb.DuckDBPyConnection,
    rows: Iterable[Mapping[str, Any]],
    periods: Iterable[str],
    as_of: datetime,
    run_id: str,
    build_id: str | None = None,
) -> int:
    """Replace the judgements of `periods` with `rows`, judged from build `build_id`; returns
    the number written."""
    stamp = as_of.replace(tzinfo=None) if as_of.tzinfo else as_of
    records = [{**{k: row.get(k) for k in COLUMNS}, "as_of": stamp, "run_id": run_id, "build_id": build_id}
               for row in rows]
    con.execute("create schema if not exists judgements")
    con.execute(f"create table if not exists judgements.kpi_status ({_DDL})")
    # A warehouse judged before judgements named their build.
    con.execute("alter table judgements.kpi_status add column if not exists build_id varchar")
    with transaction(con):
        con.execute("delete from judgements.kpi_status where period in (select unnest(?))", [sorted(set(periods))])
        if records:
            con.register("_judged", pa.Table.from_pylist(records, schema=_SCHEMA))
            con.execute("insert into judgements.kpi_status select * from _judged")
            con.unregister("_judged")
    return len(records)


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether judgements.<table> exists: a warehouse no run has judged (or built) has none."""
    return bool(con.execute("select count(*) from information_schema.tables where table_schema = 'judgements' "
                            "and table_name = ?", [table]).fetchone()[0])


def read_judgements(con: duckdb.DuckDBPyConnection, periods: Iterable[str] | None = None) -> list[dict[str, Any]]:
    if not _exists(con, "kpi_status"):
        return []
    sql = "select * from judgements.kpi_status"
    params: list[Any] = []
    if periods is not None:
        sql += " where period in (select unnest(?))"
        params.append(sorted(set(periods)))
    sql += " order by agreement, period, kpi"
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def scorecard_as_of(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The instant (naive UTC) the warehouse's scorecard was built as of; None when empty or
    not built: judging then says the warehouse has no marts.scorecard, where DuckDB's
    Catalog Error failed `kpi_status` materialised alone on a warehouse no run had built."""
    if ("marts", "scorecard") not in warehouse_tables(con):
        return None
    return con.execute("select max(as_of) from marts.scorecard").fetchone()[0]


def mark_build(con: duckdb.DuckDBPyConnection, run_id: str, as_of: datetime | None = None) -> None:
    """Record that run `run_id` has written the raw tables or is writing the marts, and the
    instant the marts are built as of: `as_of` from the build; a load alone keeps the instant
    of the marts it leaves as they were (a build after it without the load builds as of it)."""
    kept = naive_utc(as_of) if as_of is not None else built_as_of(con)
    con.execute("create schema if not exists judgements")
    con.execute("create or replace table judgements.last_build (run_id varchar, as_of timestamp)")
    con.execute("insert into judgements.last_build values (?, ?)", [run_id, kept])


def built_as_of(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The instant (naive UTC) the warehouse's marts were last built as of; None when no run
    has built them. A warehouse built before the builds recorded it: its scorecard's."""
    if _exists(con, "last_build") and con.execute(
            "select count(*) from information_schema.columns where table_schema = 'judgements' "
            "and table_name = 'last_build' and column_name = 'as_of'").fetchone()[0]:
        row = con.execute("select as_of from judgements.last_build").fetchone()
        return row[0] if row else None
    return scorecard_as_of(con)


def last_build(con: duckdb.DuckDBPyConnection) -> str | None:
    """The run id of the warehouse's last build; None when no build recorded one."""
    if not _exists(con, "last_build"):
        return None
    row = con.execute("select run_id from judgements.last_build").fetchone()  # one row: mark_build replaces it
    return row[0] if row else None
