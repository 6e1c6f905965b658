"""A copy of the dbt project for a test that changes, breaks or fills it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


def copied_dbt_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the dbt project, without its target/ and logs/ (the repository's dbt.log, grown
    by earlier runs, may be past a test's file limit), that runs use instead of the repository's."""
    from pipelines.warehouse.dbt_runner import DEFAULT_PROJECT_DIR

    project = tmp_path / "dbt_project"
    shutil.copytree(DEFAULT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    monkeypatch.setenv("FUNNELPACT_DBT_PROJECT_DIR", str(project))
    return project
