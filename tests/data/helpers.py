"""Small data directories written from text, for loader tests."""

from __future__ import annotations

import textwrap
from pathlib import Path


# The lifecycle values the acme agreement knows: its stage ids and crm_values
# (`known_stage_values` of sla/; recycled and disqualified are always known).
STAGE_VALUES = frozenset({
    "visit", "lead", "subscriber", "mql", "marketingqualifiedlead", "sql", "salesqualifiedlead",
    "opportunity", "customer",
})

CONTACTS = """\
    contact_id,created_at,source,persona,seniority,country
    C1,2026-01-05T10:00:00Z,organic,champion,vp,MX
    C2,2026-01-06T11:00:00Z,paid_search,,,US
    """
EVENTS = """\
    contact_id,stage,occurred_at,reason
    C1,lead,2026-01-05T10:00:00Z,
    C2,lead,2026-01-06T11:00:00Z,
    """


def write_dir(path: Path, **tables: str) -> Path:
    """A data directory with the given tables as CSV (dedented); contacts and events default."""
    path.mkdir(parents=True, exist_ok=True)
    tables.setdefault("contacts", CONTACTS)
    tables.setdefault("lifecycle_events", EVENTS)
    for name, body in tables.items():
        if body is not None:
            (path / f"{name}.csv").write_text(textwrap.dedent(body))
    return path



def rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()
