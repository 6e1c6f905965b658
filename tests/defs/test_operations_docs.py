"""docs/operations.md's settings table lists every variable funnelpact reads, and no other."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
# Not settings: the agreements name their alert channels' variables (docs/alerts.md), and
# the pipeline hands the as-of instant to dbt in FUNNELPACT_AS_OF (docs/architecture.md).
NOT_SETTINGS = {"FUNNELPACT_AS_OF", "FUNNELPACT_SLACK_WEBHOOK", "FUNNELPACT_SMTP_URL", "FUNNELPACT_ALERT_WEBHOOK"}


def _read_by_the_code() -> set[str]:
    dbt = ROOT / "dbt_project"  # its sources, not the target/ and logs/ dbt writes
    files = [*(ROOT / "pipelines").rglob("*.py"), *dbt.glob("*.yml"),
             *(f for folder in ("macros", "models") for f in (dbt / folder).rglob("*") if f.is_file())]
    return {v for f in files for v in re.findall(r"\bFUNNELPACT_[A-Z_]+\b", f.read_text(encoding="utf-8"))}


def test_the_settings_table_is_every_variable_the_code_reads() -> None:
    table = DOC.split("## Settings", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `(FUNNELPACT_[A-Z_]+)` \|", table, re.MULTILINE))
    read = _read_by_the_code() - NOT_SETTINGS
    assert read - documented == set(), "read by the code, missing from the table in docs/operations.md"
    assert documented - read == set(), "in the table of docs/operations.md, read by no code"
