"""What the README's tour and the default settings write is not offered to git: `git add -A` on
a pull request that changes sla/ must not commit the CRM data, the warehouse or a demo."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("path", [
    "data/contacts.csv",                     # FUNNELPACT_DATA_DIR's default; `generate --out data/`, the importers'
    "data/lifecycle_events/part-0.parquet",
    ".funnelpact/warehouse.duckdb",          # FUNNELPACT_DUCKDB_PATH's and FUNNELPACT_HOME's default
    "funnelpact-demo/data/contacts.csv",     # `funnelpact demo`
])
def test_what_a_run_writes_at_the_repository_root_is_ignored(path: str, tmp_path: Path) -> None:
    shutil.copy(ROOT / ".gitignore", tmp_path / ".gitignore")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    ignored = subprocess.run(["git", "-C", str(tmp_path), "check-ignore", "-q", path])
    assert ignored.returncode == 0, f"{path} is not in .gitignore"


@pytest.mark.parametrize("path", ["sla/acme-2026-h1.yaml", "tests/fixtures/exports/csv/data/people.csv",
                                  "pipelines/data/load.py"])
def test_the_agreements_and_the_code_are_not_ignored(path: str, tmp_path: Path) -> None:
    shutil.copy(ROOT / ".gitignore", tmp_path / ".gitignore")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    assert subprocess.run(["git", "-C", str(tmp_path), "check-ignore", "-q", path]).returncode == 1
