"""Where funnelpact reads and writes, resolved from the environment at run time.

Nothing reads the environment at import time, so tests point a run elsewhere with
`monkeypatch.setenv` and no module reloads.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pipelines.warehouse.duckdb_path import duckdb_path

HOME_ENV = "FUNNELPACT_HOME"
SLA_ENV = "FUNNELPACT_SLA_DIR"
DATA_ENV = "FUNNELPACT_DATA_DIR"
# The kinds of channel alerts may go to, comma-separated; unset, every kind. `funnelpact demo`
# sets `log`: its data is made up, and a project's sla/ names the team's real Slack and mail.
ALERT_CHANNELS_ENV = "FUNNELPACT_ALERT_CHANNELS"


def default_sla_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The agreement folder of every command that is given none: $FUNNELPACT_SLA_DIR, else sla/.

    As given (not resolved), so messages name it as the user wrote it."""
    return _default_folder(SLA_ENV, "sla", environ)


def default_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The data directory of every command given no --data: $FUNNELPACT_DATA_DIR, else data/."""
    return _default_folder(DATA_ENV, "data", environ)


def _default_folder(variable: str, default: str, environ: Mapping[str, str] | None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get(variable) or default).expanduser()


def default_folder_hint(path: Path, variable: str, default: str, given_as: str) -> str:
    """Where a command given no folder looked, and why there, when `path` is that folder
    ($`variable`, else `default` in the current directory); `given_as`: how a command is given
    another ('--data DIR'). A message naming only the path ('sla', or a crontab's mistyped
    variable's value) said neither where it came from nor how to give another; '' otherwise."""
    if path.resolve() != _default_folder(variable, default, None).resolve():
        return ""
    if os.environ.get(variable):
        return f" (the folder ${variable} names, read when no folder is given: {given_as})"
    return (f" (the default folder, {default}/ in the current directory: run from the repository root, "
            f"give the folder as {given_as}, or set ${variable})")


def check_run_settings() -> None:
    """The settings a run's steps read (dbt's threads and target, DuckDB's memory limit): bad
    input before the run, exit 2 naming the variable, not a failed step. Before `funnelpact run`
    says it is judging, as the code location loads."""
    from pipelines.warehouse.dbt_runner import check_target, check_threads
    from pipelines.warehouse.memory_limit import memory_limit

    check_threads()
    check_target()
    memory_limit()


@dataclass(frozen=True)
class Settings:
    sla_dir: Path
    data_dir: Path
    warehouse: Path
    home: Path

    @property
    def dagster_home(self) -> Path:
        return Path(os.environ.get("DAGSTER_HOME") or self.home / "dagster").resolve()

    @property
    def alert_state(self) -> Path:
        return self.home / "alerts.sqlite"

    @property
    def run_log(self) -> Path:
        """The log of the last run `funnelpact run` or `backfill` started (dbt's lines too)."""
        return self.home / "logs" / "last-run.log"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        home = Path(env.get(HOME_ENV) or ".funnelpact").expanduser().resolve()
        return cls(
            sla_dir=default_sla_dir(env).resolve(),
            data_dir=default_data_dir(env).resolve(),
            warehouse=duckdb_path(env),
            home=home,
        )
