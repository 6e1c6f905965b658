"""funnelpact's SQLite event log (pipelines.defs.event_log) in the Dagster home it writes."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from pipelines.defs.instance import prepare_dagster_home


@dg.op
def _one() -> int:
    return 1


@dg.job
def _tiny():
    _one()


def test_deleting_a_run_removes_its_event_log_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each run of the daily job leaves ~1 MB in history/runs/<run id>.db. Dagster's delete
    emptied that file but kept it, so pruning old runs freed no disk."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))  # prepare_dagster_home exports its own
    home = prepare_dagster_home(tmp_path / "dagster")
    shards = home / "history" / "runs"
    with dg.DagsterInstance.from_config(str(home)) as instance:
        old, kept = (_tiny.execute_in_process(instance=instance).run_id for _ in range(2))
        assert (shards / f"{old}.db").exists() and (shards / f"{kept}.db").exists()
        instance.delete_run(old)
        assert not list(shards.glob(f"{old}.db*"))
        assert instance.get_run_by_id(old) is None and not instance.all_logs(old)
        # The other run, and the index of every run's asset events, are untouched.
        assert (shards / f"{kept}.db").exists() and instance.all_logs(kept)
        assert (shards / "index.db").exists()
        # The store still works after the deletion: a new run writes a new file.
        new = _tiny.execute_in_process(instance=instance).run_id
        assert (shards / f"{new}.db").exists() and instance.all_logs(new)
