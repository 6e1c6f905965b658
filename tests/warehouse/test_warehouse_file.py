"""A warehouse file the run cannot use, named by its setting with the way out: one whose
blocks DuckDB cannot read back (a disk error, a copy cut short), not `raw_crm: Corrupt
database file: …` (exit 3); one the run may not write, not `agreement_tables: IO Error:
Cannot open file …: Permission denied` (exit 3)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.errors import InputError
from pipelines.warehouse.connection import connect
from pipelines.warehouse.duckdb_path import ENV_VAR


def test_a_damaged_block_is_bad_input_naming_the_warehouse_and_it_is_left_as_it_is(tmp_path) -> None:
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw; create table raw.t as select i, i::varchar s from range(300000) t(i)")
    size = path.stat().st_size
    with open(path, "r+b") as f:  # zeros over a quarter of the blocks: their checksums fail
        f.seek(size // 2)
        f.write(b"\0" * (size // 4))
    damaged = path.read_bytes()
    with pytest.raises(InputError) as caught, connect(path) as con:
        con.execute("select sum(i), count(s) from raw.t").fetchall()
    [problem] = caught.value.problems
    assert problem.file == str(path) and problem.field == ENV_VAR
    assert problem.message.startswith("the warehouse is damaged (Corrupt database file"), problem.message
    assert "move it aside and run again" in problem.message
    assert path.read_bytes() == damaged


def test_a_warehouse_cut_short_is_bad_input_naming_the_warehouse_not_a_bug(tmp_path) -> None:
    """A copy that stopped half-way: DuckDB's `Could not read enough bytes from file` as it
    opens read as an unexpected error (exit 3, "this is a bug")."""
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw; create table raw.t as select i, i::varchar s from range(300000) t(i)")
    path.write_bytes(path.read_bytes()[:20_000])
    for read_only in (False, True):
        with pytest.raises(InputError) as caught, connect(path, read_only=read_only):
            pass
        [problem] = caught.value.problems
        assert problem.file == str(path) and problem.field == ENV_VAR
        assert problem.message.startswith("the warehouse is damaged (IO Error: Could not read enough bytes"), problem.message
        assert len(path.read_bytes()) == 20_000


READ_ONLY_CONNECT = """
import sys
from pathlib import Path
from pipelines.errors import InputError
from pipelines.warehouse.connection import connect
try:
    with connect(Path(sys.argv[1])) as con:
        con.execute("create table x (i int)")
except InputError as exc:
    print("InputError", *exc.problems, sep="\\n")
"""


def test_a_warehouse_the_run_may_not_write_is_bad_input_naming_its_setting(tmp_path, without_root_override) -> None:
    path = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(path)).close()
    path.chmod(0o444)
    done = without_root_override(READ_ONLY_CONNECT, str(path))
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0] == "InputError", done.stdout
    assert lines[1].startswith(f"{path} {ENV_VAR}: cannot write the warehouse (Permission denied)"), lines[1]


SPILLING_QUERY = """
import sys
from pathlib import Path
from pipelines.errors import InputError
from pipelines.warehouse.connection import connect
try:
    with connect(Path(sys.argv[1])) as con:
        con.execute("set threads = 1")
        con.execute("create table t as select i, md5(i::varchar) s from range(1000000) t(i) order by s")
except InputError as exc:
    print("InputError", *exc.problems, sep="\\n")
"""


def test_a_spill_folder_the_run_may_not_write_is_bad_input_naming_it(
        tmp_path, monkeypatch: pytest.MonkeyPatch, without_root_override) -> None:
    """Under FUNNELPACT_DUCKDB_MEMORY_LIMIT DuckDB spills to <warehouse>.tmp: without permission
    there the load failed with `raw_crm: IO Error: Cannot open file …: Permission denied` (exit 3)."""
    from pipelines.warehouse.memory_limit import ENV_VAR as MEMORY_ENV

    path = tmp_path / "warehouse.duckdb"
    spill = tmp_path / "warehouse.duckdb.tmp"
    spill.mkdir()
    spill.chmod(0)
    monkeypatch.setenv(MEMORY_ENV, "32MB")
    try:
        done = without_root_override(SPILLING_QUERY, str(path))
    finally:
        spill.chmod(0o755)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0] == "InputError", done.stdout
    assert lines[1].startswith(f"{spill} {ENV_VAR}: cannot write DuckDB's spill folder beside the warehouse "
                               "(Permission denied)"), lines[1]


@pytest.mark.parametrize("first, second", [
    ("warehouse.eu", "warehouse.us"),         # one warehouse per region (docs/agreement.md)
    ("acme.duckdb", "acme.db"),
])
def test_two_warehouses_in_one_folder_each_have_their_own_run_lock(tmp_path, first: str, second: str) -> None:
    """The lock is `<warehouse>.lock` (docs/operations.md): the whole file name and `.lock`.
    It was the name with its suffix replaced, so `warehouse.eu` and `warehouse.us` shared
    `warehouse.lock`, and a run on one refused, as in use, a run on the other."""
    from pipelines.warehouse.run_lock import run_lock

    with run_lock(tmp_path / first), run_lock(tmp_path / second):
        assert (tmp_path / f"{first}.lock").is_file() and (tmp_path / f"{second}.lock").is_file()


def test_a_warehouse_named_like_a_lock_file_is_not_truncated_by_its_lock(tmp_path) -> None:
    """`FUNNELPACT_DUCKDB_PATH=….lock`: the lock was the warehouse file itself, opened for
    writing, which emptied the warehouse at the start of every run."""
    from pipelines.warehouse.run_lock import run_lock

    path = tmp_path / "warehouse.lock"
    with duckdb.connect(str(path)) as con:
        con.execute("create table t as select 1 as i")
    before = path.read_bytes()
    with run_lock(path):
        pass
    assert path.read_bytes() == before


def test_the_checks_library_reading_a_damaged_warehouse_names_it_as_the_commands_do(tmp_path) -> None:
    """`judge`/`run_checks` given the warehouse's path opened it with a plain duckdb.connect: a
    file cut short was DuckDB's IO Error, which the CLI calls a bug."""
    from pipelines.agreement import load_agreements
    from pipelines.checks.validate import judge

    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw; create table raw.t as select i, i::varchar s from range(300000) t(i)")
    path.write_bytes(path.read_bytes()[:20_000])
    with pytest.raises(InputError) as caught:
        judge(path, load_agreements(Path(__file__).parents[2] / "sla"), ["2026-03"], "2026-04-10T00:00:00Z")
    [problem] = caught.value.problems
    assert problem.file == str(path) and problem.message.startswith("the warehouse is damaged"), problem
