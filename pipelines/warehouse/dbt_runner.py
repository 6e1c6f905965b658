"""Run the dbt project in-process (`dbt.cli.main.dbtRunner`).

`dbt_args` builds the command line as a pure function (unit-tested); `run_dbt` runs it
against the warehouse file of `pipelines.warehouse.duckdb_path`. dbt is imported inside
`run_dbt` only: the light commands (`validate`, `plan`, ...) never pay for it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pipelines.agreement.months import naive_utc
from pipelines.disk_full import DiskFull, no_room
from pipelines.errors import InputError, Problem
from pipelines.logs import LOGGER
from pipelines.warehouse.duckdb_path import ENV_VAR as DUCKDB_PATH_ENV
from pipelines.warehouse.duckdb_path import duckdb_path

PROJECT_DIR_ENV = "FUNNELPACT_DBT_PROJECT_DIR"
THREADS_ENV = "FUNNELPACT_DBT_THREADS"  # read by profiles.yml
TARGET_ENV = "FUNNELPACT_DBT_TARGET"  # read by profiles.yml
# The repository's dbt_project/ (the package is installed editable from the repository).
DEFAULT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
AS_OF_FORMAT = "%Y-%m-%d %H:%M:%S"

# dbtRunner keeps global state (flags, adapters, the environment it reads profiles from):
# two invocations in one process must not overlap.
_LOCK = threading.Lock()


class DbtRunError(RuntimeError):
    """dbt ran and something failed (a model, a data test, a unit test) or could not start."""

    def __init__(self, args: Sequence[str], message: str, failures: Sequence[str] = ()):
        self.args_used = list(args)
        self.failures = list(failures)
        detail = "".join(f"\n  - {f}" for f in failures)
        super().__init__(f"dbt {' '.join(args[:1])} failed: {message}{detail}")


@dataclass(frozen=True)
class DbtRun:
    """What a successful `run_dbt` returns: the dbt arguments and dbt's own result object."""

    args: list[str]
    result: Any


def project_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get(PROJECT_DIR_ENV) or DEFAULT_PROJECT_DIR).resolve()


def check_threads(environ: Mapping[str, str] | None = None) -> None:
    """FUNNELPACT_DBT_THREADS, when set, is a whole number of 1 or more: profiles.yml reads it
    with jinja's `int`, which makes `two` a 0, and dbt failed the build mid-run with
    "max_workers must be greater than 0" (exit 3), naming no setting."""
    env = os.environ if environ is None else environ
    value = env.get(THREADS_ENV)
    if value is not None and not (re.fullmatch(r"[0-9]+", value.strip()) and int(value) >= 1):
        raise InputError(Problem(f"{value!r} is not a number of threads: expected a whole number, 1 or more "
                                 "(unset: 1)", field=THREADS_ENV))


def check_target(environ: Mapping[str, str] | None = None) -> None:
    """FUNNELPACT_DBT_TARGET, when set, names an output of the project's profiles.yml: dbt
    found out only in the run's dbt step, which failed (exit 3, the channels told of a failed
    run) with dbt's several-line "does not have a target named", naming no setting."""
    import yaml

    env = os.environ if environ is None else environ
    value = env.get(TARGET_ENV)
    profiles = project_dir(env) / "profiles.yml"
    if value is None or not profiles.is_file():  # a missing project is FUNNELPACT_DBT_PROJECT_DIR's error
        return
    try:
        outputs = yaml.safe_load(profiles.read_text(encoding="utf-8"))["funnelpact"]["outputs"]
    except (yaml.YAMLError, OSError, LookupError, TypeError):
        return  # a profiles.yml dbt cannot read either: dbt's own error says where
    if isinstance(outputs, dict) and outputs and value not in outputs:
        raise InputError(Problem(f"{value!r} is not a target of {profiles}: expected one of "
                                 f"{', '.join(map(repr, outputs))} (unset: 'duckdb')", field=TARGET_ENV))


def format_as_of(as_of: datetime | date | str) -> str:
    """The `as_of` dbt var: UTC, naive, 'YYYY-MM-DD HH:MM:SS'.

    An aware datetime is converted to UTC; a naive one is taken as UTC already; a date means
    its midnight UTC; a string must be ISO 8601 (an offset, if any, is honoured).
    """
    if isinstance(as_of, date) and not isinstance(as_of, datetime):
        as_of = datetime(as_of.year, as_of.month, as_of.day)
    try:
        instant = naive_utc(as_of)
    except ValueError:
        raise InputError(f"as-of instant {as_of!r}: expected ISO 8601, e.g. 2026-03-31 23:00:00") from None
    return instant.replace(microsecond=0).strftime(AS_OF_FORMAT)


def dbt_args(
    command: str,
    *,
    as_of: datetime | date | str | None = None,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    dbt_vars: Mapping[str, Any] | None = None,
    target: str | None = None,
    project: Path | None = None,
    profiles: Path | None = None,
    target_path: Path | None = None,
    log_path: Path | None = None,
    full_refresh: bool = False,
    extra: Sequence[str] = (),
) -> list[str]:
    """The dbt command line (without the leading `dbt`) for one invocation.

    >>> dbt_args("build", as_of="2026-03-31T23:00:00Z", project=Path("/p"))[:6]
    ['build', '--project-dir', '/p', '--profiles-dir', '/p', '--vars']
    """
    project = (project or project_dir()).resolve()
    profiles = (profiles or project).resolve()
    args = [command, "--project-dir", str(project), "--profiles-dir", str(profiles)]
    variables = dict(dbt_vars or {})
    if as_of is not None:
        variables["as_of"] = format_as_of(as_of)
    if variables:
        args += ["--vars", json.dumps(variables, sort_keys=True, default=str)]
    if target:
        args += ["--target", target]
    if select:
        args += ["--select", *select]
    if exclude:
        args += ["--exclude", *exclude]
    if target_path is not None:
        args += ["--target-path", str(target_path)]
    if log_path is not None:
        args += ["--log-path", str(log_path)]
    if full_refresh:
        args.append("--full-refresh")
    args += list(extra)
    return args


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """profiles.yml reads env_var() when dbt starts: set them for this invocation only."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


@contextmanager
def _log_errors_once() -> Iterator[None]:
    """dbt writes its log file (logs/dbt.log) on every event. When that write fails (a full
    disk), Python's logging printed a traceback per event, thousands of lines on the terminal,
    while the run itself went on. One warning in the run's log instead; the class is patched
    because dbt creates its handlers inside the invocation."""
    failures: list[BaseException | None] = []
    original = logging.Handler.handleError

    def handle_error(handler: logging.Handler, record: logging.LogRecord) -> None:
        failures.append(sys.exc_info()[1])

    logging.Handler.handleError = handle_error  # type: ignore[method-assign]
    try:
        yield
    finally:
        logging.Handler.handleError = original  # type: ignore[method-assign]
        if failures:
            logging.getLogger(LOGGER).warning(
                "%d log line(s) could not be written while dbt ran (%s); dbt went on without them",
                len(failures), failures[0])


def _failed_nodes(result: Any) -> list[tuple[str, str, str]]:
    """Each node that failed: its unique id, status and message."""
    failed = []
    for node_result in getattr(result.result, "results", None) or []:
        status = str(getattr(node_result, "status", "")).lower()
        if status in {"error", "fail", "runtimeerror"}:
            name = getattr(getattr(node_result, "node", None), "unique_id", "?")
            failed.append((name, status, str(getattr(node_result, "message", ""))))
    return failed


def _release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after a run.

    dbt-duckdb caches its connection for the life of the process: the file would stay
    locked for other processes (DuckDB allows one writer) and a later read-only connect
    in this process would fail with "different configuration".
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # another adapter (FUNNELPACT_DBT_TARGET): nothing held
        return
    env = DuckDBConnectionManager._ENV
    if env is not None:
        env.close()
    DuckDBConnectionManager.close_all_connections()


def run_dbt(
    command: str,
    *,
    warehouse: Path | None = None,
    manifest: Any = None,
    check: bool = True,
    callbacks: Sequence[Any] = (),
    env: Mapping[str, str] | None = None,
    run_results_to: Path | None = None,
    **arg_options: Any,
) -> DbtRun:
    """Run one dbt command against the warehouse file and return its result.

    `warehouse` defaults to `duckdb_path()`; its directory is created. `manifest` (from a
    previous `parse`) skips re-parsing; `callbacks` get each of dbt's event messages; `env`
    is set for this invocation only (profiles.yml and macros read it). With
    `run_results_to`, dbt writes no JSON artefact itself and the run's results are written
    to that file, failed or not: a build rewrites the 1 MB manifest.json twice, unchanged
    since the `dbt parse` that wrote it, ~0.4 s of every run (docs/performance.md). Other
    keyword arguments go to `dbt_args`. Raises `DbtRunError` when dbt fails and `check` is
    true.
    """
    from dbt.cli.main import dbtRunner  # heavy: imported only when dbt actually runs

    path = (warehouse or duckdb_path()).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    args = dbt_args(command, **arg_options)
    if run_results_to is not None:
        args.append("--no-write-json")
    with _LOCK, _environment({DUCKDB_PATH_ENV: str(path), **(env or {})}), _log_errors_once():
        try:
            result = dbtRunner(manifest=manifest, callbacks=list(callbacks)).invoke(args)
        finally:
            _release_duckdb()
    if isinstance(result.exception, KeyboardInterrupt):
        raise KeyboardInterrupt  # dbt caught it and reports a failed command: it is an interruption
    if run_results_to is not None and hasattr(result.result, "write"):
        result.result.write(str(run_results_to))
    if check and not result.success:
        if result.exception is not None and (full := no_room(result.exception)) is not None:
            # Not dbt's own failure: read as one, a full disk said "the dbt project does not parse".
            raise DiskFull(full.where or f"dbt's files under {args[2]}") from result.exception
        failed = _failed_nodes(result)
        # The nodes on the first line: a failed run's message quotes that line alone (docs/alerts.md,
        # *When a run fails*), and "see the failures below" named no model or test in Slack or e-mail.
        message = (str(result.exception) if result.exception
                   else ", ".join(f"{name} ({status})" for name, status, _ in failed)
                   or "dbt reported no failed node (its log says why)")
        raise DbtRunError(args, message, [": ".join(node) for node in failed])
    return DbtRun(args=args, result=result)
