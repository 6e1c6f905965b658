"""FUNNELPACT_DUCKDB_MEMORY_LIMIT: checked before a run, applied by the loader's connection and
by dbt's, so the whole run stays within it."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.errors import InputError
from pipelines.warehouse.connection import connect
from pipelines.warehouse.memory_limit import ENV_VAR, memory_limit, out_of_memory_hint


@pytest.mark.parametrize("value", ["2GB", "512MiB", "1.5GiB", "50%", " 300 MB ", "2gb"])
def test_sizes_and_shares_duckdb_reads_are_accepted(value: str) -> None:
    assert memory_limit({ENV_VAR: value}) == value.strip()
    duckdb.connect().execute(f"set memory_limit = '{memory_limit({ENV_VAR: value})}'")  # and DuckDB takes it


@pytest.mark.parametrize("value", ["2 gigs", "500", "0GB", "-1", "150%", "1e3GB", "2GB'; drop table x; --"])
def test_anything_else_is_bad_input_naming_the_variable(value: str) -> None:
    with pytest.raises(InputError, match="is not a memory limit: expected a size such as 2GB") as err:
        memory_limit({ENV_VAR: value})
    assert ENV_VAR in str(err.value)


def test_unset_or_empty_leaves_duckdb_s_default() -> None:
    assert memory_limit({}) is None and memory_limit({ENV_VAR: " "}) is None


def test_the_loader_s_connection_takes_the_limit(tmp_path, monkeypatch) -> None:
    default = duckdb.connect().execute("select current_setting('memory_limit')").fetchone()[0]
    with connect(tmp_path / "w.duckdb") as con:
        assert con.execute("select current_setting('memory_limit')").fetchone()[0] == default
    monkeypatch.setenv(ENV_VAR, "300MB")
    with connect(tmp_path / "w.duckdb") as con:
        assert con.execute("select current_setting('memory_limit')").fetchone()[0] == "286.1 MiB"


def test_dbt_s_connection_takes_the_limit_through_profiles_yml(warehouse) -> None:
    sql = "select current_setting('memory_limit') as m"
    default = duckdb.connect().execute(sql).fetchone()[0]

    def shown(env: dict[str, str]) -> str:
        run = warehouse.dbt("show", env=env, extra=["--inline", sql])
        return run.result.result.results[0].agate_table.rows[0][0]

    assert shown({ENV_VAR: "300MB"}) == "286.1 MiB"
    assert shown({ENV_VAR: ""}) == default  # profiles.yml's fallback is DuckDB's own default


def test_a_run_out_of_memory_names_the_limit_that_made_it(monkeypatch) -> None:
    oom = "raw_crm: Out of Memory Error: could not allocate block of size 256.0 KiB (18.9 MiB/19.0 MiB used)"
    assert out_of_memory_hint(oom) == ""  # no limit set: DuckDB's default, nothing of ours to name
    monkeypatch.setenv(ENV_VAR, "20MB")
    assert out_of_memory_hint(oom) == f"\n{ENV_VAR} is 20MB: raise it, or unset it for DuckDB's default"
    assert out_of_memory_hint("raw_crm: contacts.csv: no such file") == ""
