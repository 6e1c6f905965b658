"""docs/data.md documents every canonical column, every reason and the importers' options."""

from __future__ import annotations

import re

import pytest
import yaml

from pipelines.data import docs
from pipelines.data.importers.csv_mapping import read_mapping
from pipelines.data.tables import MONEY, TABLES

DOC = docs.DOC.read_text(encoding="utf-8")


def test_the_tables_section_is_generated_from_tables_py():
    assert docs.section(DOC) == docs.render(), (
        "docs/data.md is stale: run `python -m pipelines.data.docs`")


def test_every_column_of_every_table_is_listed_under_its_table():
    for name, table in TABLES.items():
        block = DOC.split(f"### `{name}`", 1)[1].split("###", 1)[0]
        for column in table.columns:
            assert f"| `{column.name}` | `{column.type}` |" in block, f"{name}.{column.name}"


def test_every_reason_the_loader_can_give_is_documented():
    reasons = set()
    for table in TABLES.values():
        for c in table.columns:
            if c.required:
                reasons.add("missing_required:<column>")
            if c.type in ("timestamp",):
                reasons.add("bad_timestamp:<column>")
            if c.type == "date":
                reasons.add("bad_date:<column>")
            if c.type in (MONEY, "bigint"):
                reasons.add("bad_number:<column>")
            if c.allowed:
                reasons.add("invalid_value:<column>")
            if c.non_negative:
                reasons.add(f"negative_{c.name}")
    reasons |= {"unknown_stage", "conflicting_duplicate_id", "unknown_contact"}
    documented = set(re.findall(r"^\| `([a-z_:<>]+)`", DOC, re.M))
    documented |= set(re.findall(r"`(negative_[a-z]+)`", DOC))
    assert reasons <= documented


def test_the_csv_mapping_example_is_valid_and_is_the_fixture(tmp_path):
    example = DOC.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "mapping.yaml"
    path.write_text(example)
    assert read_mapping(path)["tables"].keys() == {"contacts", "lifecycle_events", "activities",
                                                  "deals"}
    fixture = yaml.safe_load((docs.DOC.parents[1] / "tests" / "fixtures" / "exports" / "csv"
                              / "mapping.yaml").read_text())
    # The whole mapping, not one table: a reader who copies it onto the fixture's files gets
    # what the fixture gives (without touches.csv's delimiter and format, its day-first
    # times were read month-first).
    assert yaml.safe_load(example) == fixture


def test_the_pipedrive_row_filter_example_imports_calls_and_meetings_only(tmp_path):
    from pipelines.data.importers.csv_mapping import import_csv
    from pipelines.errors import InputError

    section = DOC.split("#### Leaving rows out", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "activities.csv").write_text(
        "ID,Subject,Type,Done,Due date,Person ID\n"
        "1,Intro,Call,1,2026-01-07T17:00:00Z,P-1\n2,Deck,Task,1,2026-01-07T18:00:00Z,P-1\n"
        "3,Demo,Meeting,1,2026-01-08T15:00:00Z,P-2\n4,Renewal,Deadline,0,2026-01-20T00:00:00Z,\n"
        "5,Demo 2,Meeting,0,2026-01-09T15:00:00Z,P-2\n")
    (tmp_path / "crm.yaml").write_text(example)
    imported = import_csv(tmp_path / "crm.yaml", tmp_path / "out")
    assert (tmp_path / "out" / "activities.csv").read_text().splitlines()[1:] == [
        "1,P-1,2026-01-07T17:00:00Z,sales,Call", "3,P-2,2026-01-08T15:00:00Z,sales,Meeting"]
    assert imported.left_out == {"activities": 3}
    # The error the section shows, on its example.
    (tmp_path / "crm.yaml").write_text(example.replace("column: Type", "column: Typ"))
    with pytest.raises(InputError) as exc:
        import_csv(tmp_path / "crm.yaml", tmp_path / "out2")
    shown = section.split("(`crm.yaml:", 1)[1].split(" in activities.csv", 1)[0]
    assert str(exc.value).startswith(f"{tmp_path / 'crm.yaml'}:{' '.join(shown.split())} in activities.csv")
