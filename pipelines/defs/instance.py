"""The persistent Dagster home that CLI runs share with `dagster dev`, so they show in the UI."""

from __future__ import annotations

import os
from pathlib import Path

from pipelines.errors import InputError, Problem

HEADER = "# Written by funnelpact. CLI runs and `dagster dev` share this home, so every run shows in the UI.\n"
SETTINGS = """\
telemetry:
  enabled: false
concurrency:
  runs:
    # DuckDB allows one writer: queued runs of the job start one at a time.
    max_concurrent_runs: 1
"""
# Dagster's own files (history/runs/*.db), written through open connections: see event_log.py.
EVENT_LOG = """\
event_log_storage:
  module: pipelines.defs.event_log
  class: PooledSqliteEventLogStorage
  config:
    base_dir: {base_dir}
"""
# Dagster's default place for captured output (storage/), with processes that do not take the
# terminal's Ctrl-C: see compute_logs.py.
COMPUTE_LOGS = """\
compute_logs:
  module: pipelines.defs.compute_logs
  class: MirroredComputeLogManager
  config:
    base_dir: {base_dir}
"""
# The daemon fails a run its launch left Starting (the daemon or `dagster dev` killed while
# launching it, a reboot) and cancels one left Canceling (Terminate on a run whose process is
# gone): either held the one run slot for ever. Dagster's default launcher cannot tell whether a
# Started run's process is alive, so a Started run is ended only past a maximum runtime.
RUN_MONITORING_V1 = """\
run_monitoring:
  enabled: true
  # Loading the code location takes ~10 s, minutes on a busy machine: a slow start is not a dead one.
  start_timeout_seconds: 600
  cancel_timeout_seconds: 180
  # Dagster refuses more with its default launcher, which cannot resume a run.
  max_resume_run_attempts: 0
  poll_interval_seconds: 60
"""
# A run still Started after 6 hours is dead: its process killed with `dagster dev` (a reboot),
# or a CLI run's killed while no later CLI run came to mark it. Either held the one run slot,
# and the schedule's runs queued behind it, alerting no one. A run takes seconds to minutes
# (20 s at a million contacts): 6 hours is far past any, and short of the next day's run.
RUN_MONITORING = RUN_MONITORING_V1 + "  max_runtime_seconds: 21600\n"


def dagster_yaml(home: Path) -> str:
    event_log, compute_logs = _home_paths(home)
    return HEADER + SETTINGS + event_log + compute_logs + RUN_MONITORING


def _previous(home: Path) -> tuple[str, ...]:
    """What earlier versions wrote: replaced by the current file (an edited file is kept)."""
    event_log, compute_logs = _home_paths(home)
    return (HEADER + SETTINGS, HEADER + SETTINGS + event_log, HEADER + SETTINGS + event_log + compute_logs,
            HEADER + SETTINGS + event_log + compute_logs + RUN_MONITORING_V1)


def _home_paths(home: Path) -> tuple[str, str]:
    """The sections naming the home's folders: the event log's and the captured output's."""
    return (EVENT_LOG.format(base_dir=home.resolve() / "history" / "runs"),
            COMPUTE_LOGS.format(base_dir=home.resolve() / "storage"))


def prepare_dagster_home(home: Path) -> Path:
    """Create the home with its dagster.yaml (kept if the user edited it) and export it."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    written = config.read_text() if config.exists() else None
    if written is None or written in _previous(home):
        # Whole or not at all: written in place, a run killed (or out of disk) while writing it
        # left a cut-off file that every later run kept as one the user had edited (its event
        # log in a cut-off folder, no run monitoring), without a word.
        part = config.with_name(config.name + ".part")
        part.write_text(dagster_yaml(home))
        os.replace(part, config)
    elif written != dagster_yaml(home):
        _check_kept(config)  # the file this function writes needs no check on every run
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def _check_kept(config: Path) -> None:
    """A dagster.yaml kept because someone edited it is read by Dagster only when the instance
    opens, deep in a run (or prune-runs): one it cannot read was a traceback and exit 1, which
    `run` means for a missed target."""
    import yaml
    from dagster._core.errors import DagsterInvalidConfigError
    from dagster._core.instance.config import dagster_instance_config

    try:
        dagster_instance_config(str(config.parent))
    except (DagsterInvalidConfigError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = " ".join(str(getattr(exc, "problem", None) or exc).split())
        raise InputError(Problem(
            f"Dagster cannot read this dagster.yaml ({reason}); expected a valid Dagster instance config: "
            "fix it, or delete it and funnelpact writes its own", file=str(config),
            line=mark.line + 1 if mark is not None else None)) from None
