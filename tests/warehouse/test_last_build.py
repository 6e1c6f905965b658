"""judgements.last_build: which run last built the warehouse, and the instant its marts are
as of, which a build of some models without the load builds them as of."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

from pipelines.warehouse.judgements import built_as_of, last_build, mark_build

AS_OF = datetime(2026, 8, 20, 12, tzinfo=UTC)


def test_a_load_alone_keeps_the_instant_the_marts_were_built_as_of(tmp_path) -> None:
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        assert built_as_of(con) is None
        mark_build(con, "load-1")   # loaded, never built: no instant yet
        assert built_as_of(con) is None
        mark_build(con, "build-1", AS_OF)
        # The load replaces the raw tables, not the marts: they are still as of the build.
        mark_build(con, "load-2")
        assert (last_build(con), built_as_of(con)) == ("load-2", datetime(2026, 8, 20, 12))


def test_a_warehouse_built_before_builds_recorded_their_instant_is_as_of_its_scorecard(tmp_path) -> None:
    """After an upgrade, before any run rebuilt the warehouse: no as_of in last_build."""
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute("create schema judgements")
        con.execute("create table judgements.last_build (run_id varchar)")
        con.execute("insert into judgements.last_build values ('earlier')")
        con.execute("create schema marts")
        con.execute("create table marts.scorecard as select timestamp '2026-08-20 12:00:00' as as_of")
        assert built_as_of(con) == datetime(2026, 8, 20, 12)
        mark_build(con, "load")
        assert (last_build(con), built_as_of(con)) == ("load", datetime(2026, 8, 20, 12))
