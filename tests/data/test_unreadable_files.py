"""A data file the run may not read (its mode, its folder's): bad input naming the file, as
docs/data.md says of an unreadable file, not `raw_crm: [Errno 13] Permission denied` (exit 3)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

LOAD = """
import sys, duckdb
from pipelines.data.load import load_data_dir
from pipelines.errors import InputError
try:
    load_data_dir(sys.argv[1], duckdb.connect(), [])
except InputError as exc:
    print("InputError", *exc.problems, sep="\\n")
"""


@pytest.mark.parametrize("unreadable", ["deals.csv", "."], ids=["a file", "the folder"])
def test_an_unreadable_data_file_is_bad_input_naming_it(
        company: Path, tmp_path: Path, without_root_override, unreadable: str) -> None:
    data = tmp_path / "data"
    shutil.copytree(company, data)
    (data / unreadable).chmod(0)
    try:
        done = without_root_override(LOAD, str(data))
    finally:
        (data / unreadable).chmod(0o755)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("InputError\n"), done.stdout
    problems = done.stdout.splitlines()[1:]
    assert problems, done.stdout
    for problem in problems:
        assert problem.startswith(str(data)) and "cannot read" in problem and "Permission denied" in problem, problem
