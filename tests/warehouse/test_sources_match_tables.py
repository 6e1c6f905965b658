"""The dbt sources declare exactly the canonical tables of pipelines/data/tables.py."""

from __future__ import annotations

from pathlib import Path

import yaml

from pipelines.data import tables
from pipelines.warehouse.dbt_runner import DEFAULT_PROJECT_DIR

SOURCES = DEFAULT_PROJECT_DIR / "models" / "staging" / "_crm__sources.yml"
# Loader bookkeeping, not canonical CRM data: declared in the sources, not in TABLES.
LOADER_TABLES = {"load_report", "quarantine"}


def _source_tables(path: Path) -> dict[str, list[tuple[str, str]]]:
    doc = yaml.safe_load(path.read_text())
    return {
        t["name"]: [(c["name"], c["data_type"]) for c in t["columns"]]
        for source in doc["sources"] for t in source["tables"]
    }


def test_every_canonical_table_is_a_source_with_the_same_columns_and_types():
    declared = _source_tables(SOURCES)
    expected = {name: [(c.name, c.type) for c in t.columns] for name, t in tables.TABLES.items()}
    assert {k: v for k, v in declared.items() if k not in LOADER_TABLES} == expected
