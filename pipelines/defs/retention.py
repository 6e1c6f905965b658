"""Deleting old runs from the Dagster home, which Dagster never prunes itself.

The daily schedule leaves ~2.3 MB a day there (docs/operations.md, "What daily runs leave on
disk"): each run's event log, its rows of the run index and its captured output. The
warehouse, its judgements and the alert state are not Dagster's and are not touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

# Runs still queued or under way are never deleted, whatever their age.
FINISHED = ("SUCCESS", "FAILURE", "CANCELED")


@dataclass(frozen=True)
class Pruned:
    deleted: int     # runs deleted (or, dry, that would be)
    freed: int       # bytes of their event logs and captured output
    kept: int        # runs left


def prune_runs(home: Path, before: datetime, dry_run: bool = False) -> Pruned:
    """Delete the finished runs created before `before` (aware) from the Dagster home `home`."""
    import dagster as dg

    from pipelines.defs.instance import prepare_dagster_home

    prepare_dagster_home(home)
    with dg.DagsterInstance.get() as instance:
        total = instance.get_runs_count()
        old = instance.get_run_records(dg.RunsFilter(
            created_before=before, statuses=[dg.DagsterRunStatus[s] for s in FINISHED]))
        freed = 0
        for record in old:
            run_id = record.dagster_run.run_id
            freed += _size(home / "history" / "runs" / f"{run_id}.db") + _size(home / "storage" / run_id)
            if not dry_run:
                instance.delete_run(run_id)  # its event log file goes too (event_log.py)
                instance.compute_log_manager.delete_logs(prefix=[run_id])
    return Pruned(deleted=len(old), freed=freed, kept=total - len(old))


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else 0
