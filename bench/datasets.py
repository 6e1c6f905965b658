"""Benchmark data, generated once and cached under bench/.cache/ (git-ignored).

`full/`: the generator's canonical Parquet files for the year 2026.
`daily/history/`, `daily/new/`: the same data split by date for the daily run. Each table is
a folder of Parquet parts (SPEC §2): history holds `history.parquet` (every row dated before
the new day), new holds the same history file plus `<day>.parquet` with the new day's rows:
appending a day is adding a file, as an export job would. Rows dated after the new day are
left out of both. A deal is dated by its latest timestamp (closed_at, else created_at).
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb

from bench.measure import worker

CACHE = Path(__file__).resolve().parent / ".cache"
# Every dataset ends with 2026 (a longer history starts earlier): NEW_DAY and the as-ofs below
# are its last days.
END = date(2026, 12, 31)
NEW_DAY = date(2026, 12, 30)
# The daily run the schedule launches the morning after the new day (06:00 in Mexico City).
DAILY_AS_OF = "2026-12-31T12:00:00+00:00"
FULL_AS_OF = "2027-01-01T06:00:00+00:00"  # the end of 2026 in the agreement's timezone
DATE_OF = {
    "contacts": "created_at",
    "lifecycle_events": "occurred_at",
    "activities": "occurred_at",
    "deals": "greatest(created_at, coalesce(closed_at, created_at))",
    "web_sessions": '"date"',
}


def dataset(label: str, contacts: int, start: date = date(2026, 1, 1)) -> Path:
    """The cached dataset's directory, generated (and split) on first use."""
    root = CACHE / label
    if not _complete(root):
        shutil.rmtree(root, ignore_errors=True)
        worker({"kind": "generate", "out": str(root / "full"), "contacts": contacts, "seed": 1,
                "start": start.isoformat(), "end": END.isoformat(), "fmt": "parquet"})
        split_daily(root / "full", root / "daily", NEW_DAY)
    return root


def _complete(root: Path) -> bool:
    """Whether the cached split is whole: every link to the history resolves (a cache made
    before its links were relative, then moved, pointed into the folder it was made in)."""
    new = root / "daily" / "new"
    return all((new / table / "history.parquet").exists() for table in DATE_OF)


def split_daily(full: Path, out: Path, day: date) -> None:
    history, new = out / "history", out / "new"
    con = duckdb.connect()
    # Timestamps are ISO text in the generated files: text order is time order.
    lo, hi = day.isoformat(), date.fromordinal(day.toordinal() + 1).isoformat()
    for table, column in DATE_OF.items():
        src = f"read_parquet('{full / (table + '.parquet')}')"
        for folder in (history / table, new / table):
            folder.mkdir(parents=True, exist_ok=True)
        # Unparseable dates (the generator plants a few) stay in history.
        con.execute(f"copy (select * from {src} where {column} is null or {column} < '{lo}' "
                    f"or try_cast({column} as timestamp) is null) "
                    f"to '{history / table / 'history.parquet'}' (format parquet)")
        con.execute(f"copy (select * from {src} where {column} >= '{lo}' and {column} < '{hi}' "
                    f"and try_cast({column} as timestamp) is not null) "
                    f"to '{new / table / (lo + '.parquet')}' (format parquet)")
        # Relative: the cache stays whole when the repository is moved or copied.
        (new / table / "history.parquet").symlink_to(Path("..", "..", "history", table, "history.parquet"))
    con.close()
