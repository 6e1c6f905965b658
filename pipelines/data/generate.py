"""`funnelpact generate`: a deterministic synthetic company in the canonical form.

Contacts are simulated in fixed chunks of 100,000, each with its own random stream derived
from (seed, chunk), and appended to the output files: memory stays bounded by one chunk and
the files depend only on the seed and the arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa

from pipelines.data.staged_folder import StagedFolder
from pipelines.data.synthetic import Calendar, Funnel, drift_table, simulate_chunk, web_sessions
from pipelines.data.table_writer import TableWriter
from pipelines.data.tables import TABLES
from pipelines.errors import InputError, Problem

CHUNK = 100_000
DEFAULT_CONTACTS = 20_000
DEFAULT_START, DEFAULT_END = date(2026, 1, 1), date(2026, 12, 31)
FORMATS = ("csv", "parquet")


@dataclass
class GenerateSummary:
    out: Path
    rows: dict[str, int] = field(default_factory=dict)
    # What was planted on purpose: the loader must quarantine or count exactly these.
    planted: dict[str, int] = field(default_factory=dict)


def generate(out: Path, contacts: int = DEFAULT_CONTACTS, seed: int = 1,
             start: date = DEFAULT_START, end: date = DEFAULT_END, fmt: str = "csv",
             funnel: Funnel = Funnel(),
             on_progress: Callable[[int], None] | None = None) -> GenerateSummary:
    """Write contacts, lifecycle_events, activities, deals and web_sessions into `out`.

    `on_progress(n)` is called with the number of contacts done after each chunk.
    """
    if contacts < 1:
        raise InputError(Problem(f"must be at least 1, got {contacts}", field="--contacts"))
    if end < start:
        raise InputError(Problem(f"end {end} is before start {start}", field="--end"))
    if fmt not in FORMATS:
        raise InputError(Problem(f"expected one of {', '.join(FORMATS)}, got '{fmt}'",
                                 field="--format"))
    cal = Calendar.build(start, end)
    drift = drift_table(seed, cal.n_months, funnel)
    summary = GenerateSummary(out=Path(out))
    leads_per_day = np.zeros(cal.n_days, np.int64)
    # All tables or none: an interrupted or failed generate leaves --out as it was, not a
    # company without its web sessions that a run would take as whole.
    with StagedFolder(out, list(TABLES), fmt, "generate") as staged:
        writers = {name: TableWriter(staged.path(name), fmt) for name in TABLES}
        try:
            for chunk, first in enumerate(range(0, contacts, CHUNK)):
                n = min(CHUNK, contacts - first)
                rng = np.random.default_rng([seed, chunk])
                tables, leads = simulate_chunk(rng, first, n, cal, funnel, drift)
                leads_per_day += leads
                if chunk == 0:
                    tables = plant_defects(tables, rng, summary.planted)
                for name, table in tables.items():
                    writers[name].write(table)
                if on_progress:
                    on_progress(first + n)
            writers["web_sessions"].write(web_sessions(leads_per_day, cal, funnel, drift, seed))
        finally:
            for w in writers.values():
                w.close()
    summary.rows = {name: w.rows for name, w in writers.items()}
    return summary


def plant_defects(tables: dict[str, pa.Table], rng: np.random.Generator,
                  planted: dict[str, int]) -> dict[str, pa.Table]:
    """A few duplicates and contract-breaking rows, so the quarantine has something to show.

    Appended after the good rows of the first chunk; `planted` counts them by the reason the
    loader will give (plus `duplicate_rows`).
    """
    n_contacts = tables["contacts"].num_rows
    k = max(2, min(50, n_contacts // 4000))
    out = dict(tables)

    def append(name: str, rows: pa.Table, reason: str) -> None:
        out[name] = pa.concat_tables([out[name], rows.cast(out[name].schema)])
        planted[reason] = planted.get(reason, 0) + rows.num_rows

    def sample(name: str, count: int) -> pa.Table:
        table = tables[name]
        return table.take(pa.array(rng.choice(table.num_rows, size=count, replace=False)))

    events, acts = tables["lifecycle_events"], tables["activities"]
    append("lifecycle_events", sample("lifecycle_events", min(3 * k, events.num_rows)),
           "duplicate_rows")
    append("contacts", sample("contacts", min(k // 2 + 1, n_contacts)), "duplicate_rows")
    if acts.num_rows:
        append("activities", sample("activities", min(k, acts.num_rows)), "duplicate_rows")

    bad = sample("lifecycle_events", min(k, events.num_rows))
    append("lifecycle_events", bad.set_column(2, "occurred_at", pa.array(
        ["2026-02-30 10:00:00"] * bad.num_rows)), "bad_timestamp:occurred_at")
    bad = sample("lifecycle_events", min(k, events.num_rows))
    append("lifecycle_events", bad.set_column(1, "stage", pa.array(["evangelist"] * bad.num_rows)),
           "unknown_stage")
    if acts.num_rows:
        bad = sample("activities", min(k, acts.num_rows))
        ids = [f"X-{i}" for i in range(bad.num_rows)]
        append("activities", bad.set_column(0, "activity_id", pa.array(ids)).set_column(
            1, "contact_id", pa.array([f"C-UNKNOWN-{i}" for i in range(bad.num_rows)])),
            "unknown_contact")
    if tables["deals"].num_rows:
        bad = sample("deals", 1)
        append("deals", bad.set_column(0, "deal_id", pa.array(["D-REFUND-1"])).set_column(
            5, "amount", pa.array([-1200.0])), "negative_amount")
    return out
