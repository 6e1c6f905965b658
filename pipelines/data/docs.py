"""The canonical tables as Markdown, for docs/data.md (regenerate: python -m pipelines.data.docs).

A test checks that docs/data.md holds exactly this text between the markers.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipelines.data.tables import TABLES, Column

BEGIN, END = "<!-- tables:begin (generated from pipelines/data/tables.py) -->", "<!-- tables:end -->"
DOC = Path(__file__).resolve().parents[2] / "docs" / "data.md"


def _rules(c: Column) -> str:
    rules = []
    if c.required:
        rules.append("required")
    if c.allowed:
        rules.append(" / ".join(f"`{v}`" for v in c.allowed))
    if c.non_negative:
        rules.append("≥ 0")
    if c.is_stage:
        rules.append("a stage id or CRM value of some revision, or `recycled`/`disqualified`")
    if c.references_contact:
        rules.append("in contacts")
    return ", ".join(rules)


def render() -> str:
    parts = []
    for table in TABLES.values():
        presence = "optional (absent: its KPIs are `no_data`)" if table.optional else "required"
        key = f"; unique key `{table.unique_key}`" if table.unique_key else ""
        parts.append(f"### `{table.name}`\n\n{table.description} One row per "
                     f"{table.grain.removeprefix('one row per ')}; {presence}{key}.\n\n"
                     "| column | type | rules | meaning |\n|---|---|---|---|")
        parts.extend(f"| `{c.name}` | `{c.type}` | {_rules(c)} | {c.description} |"
                     for c in table.columns)
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def section(doc: str) -> str:
    return doc.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def write(path: Path = DOC) -> None:
    doc = path.read_text(encoding="utf-8")
    head, rest = doc.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    path.write_text(f"{head}{BEGIN}\n{render()}{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else DOC)
