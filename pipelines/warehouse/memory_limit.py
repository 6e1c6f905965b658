"""How much memory DuckDB may hold: `FUNNELPACT_DUCKDB_MEMORY_LIMIT`.

Unset, DuckDB takes up to 80 % of the machine's memory and keeps what it read cached, so a
run's peak memory follows the CRM's history. A limit makes DuckDB spill to a temporary folder
beside the warehouse instead: docs/performance.md measures what it costs. The loader's
connection and an import's (`pipelines.warehouse.connection.within_memory_limit`) and dbt's
(`dbt_project/profiles.yml`) read it, so the whole run, and an import, stay within it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from pipelines.errors import InputError, Problem

ENV_VAR = "FUNNELPACT_DUCKDB_MEMORY_LIMIT"
# DuckDB's own default; profiles.yml falls back to it when the variable is unset.
DEFAULT = "80%"
# What DuckDB's memory_limit reads, less its oddities (a bare number, -1 for "no limit"):
# a size with a unit, or a share of the machine's memory.
_SIZE = re.compile(r"(?i)\s*(?:\d+(?:\.\d+)?\s*(?:[KMGT]i?B)|\d+(?:\.\d+)?\s*%)\s*")


def memory_limit(environ: Mapping[str, str] | None = None) -> str | None:
    """The limit as set, checked; None when unset (DuckDB's default). Checked before a run
    starts, so a typo is exit 2 naming the variable, not a failed dbt step."""
    env = os.environ if environ is None else environ
    value = env.get(ENV_VAR)
    if value is None or not value.strip():
        return None
    number = re.match(r"\s*(\d+(?:\.\d+)?)", value)
    if not _SIZE.fullmatch(value) or not number or float(number.group(1)) <= 0 or (
            value.strip().endswith("%") and float(number.group(1)) > 100):
        raise InputError(Problem(
            f"{value!r} is not a memory limit: expected a size such as 2GB, 512MiB or 1.5GiB, or a share of "
            f"the machine's memory such as 50% (unset: DuckDB's {DEFAULT})", field=ENV_VAR))
    return value.strip()


def out_of_memory_hint(failure: str) -> str:
    """DuckDB's "Out of Memory" names its own SET, not the setting that made it: say which."""
    limit = "Out of Memory" in failure and memory_limit()
    if not limit:
        return ""
    return f"\n{ENV_VAR} is {limit}: raise it, or unset it for DuckDB's default"
