"""The dbt sources of the agreement declare the columns and types that
pipelines.warehouse.agreement_tables writes (a weight documented as a double was a decimal)."""

from __future__ import annotations

import duckdb
import yaml

from pipelines.warehouse.agreement_tables import write_agreement_tables
from pipelines.warehouse.dbt_runner import DEFAULT_PROJECT_DIR

SOURCES = DEFAULT_PROJECT_DIR / "models" / "staging" / "_agreement__sources.yml"


def test_every_agreement_table_is_a_source_with_the_same_columns_and_types():
    doc = yaml.safe_load(SOURCES.read_text())
    declared = {
        t["identifier"]: [(c["name"], c["data_type"].upper()) for c in t["columns"]]
        for source in doc["sources"] for t in source["tables"]
    }
    with duckdb.connect() as con:
        write_agreement_tables(con, [])
        rows = con.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = 'raw' order by table_name, ordinal_position").fetchall()
    written: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        written.setdefault(table, []).append((column, data_type.replace(" ", "")))
    assert declared == written
