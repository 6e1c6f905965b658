"""DuckDB draws a progress bar on stdout for any query over 2 s, a pipe or a file included:
into `funnelpact run --format json`'s document. Every connection funnelpact opens, and dbt's,
has it off."""

from __future__ import annotations

from pipelines.warehouse.connection import connect

SLOW = "select count(*) from range(300000000) t(i) where i % 7 = 3"


def test_the_warehouse_connection_prints_no_progress_bar_into_stdout(tmp_path, capfd) -> None:
    with connect(tmp_path / "w.duckdb") as con:
        con.execute("set progress_bar_time = 0")  # as soon as a query starts, not after 2 s
        assert con.execute(SLOW).fetchone()[0] > 0
    assert capfd.readouterr().out == ""


def test_dbt_s_connection_has_the_progress_bar_off_through_profiles_yml(warehouse) -> None:
    sql = "select current_setting('enable_progress_bar') as bar, current_setting('enable_progress_bar_print') as printed"
    run = warehouse.dbt("show", extra=["--inline", sql])
    assert tuple(run.result.result.results[0].agate_table.rows[0]) == (False, False)
