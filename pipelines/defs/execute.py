"""Run the Dagster job in-process for a range of months: what `funnelpact run` and
`funnelpact backfill` do, through the same job the schedule launches."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from pipelines.defs.instance import prepare_dagster_home
from pipelines.defs.jobs import JOB_NAME
from pipelines.defs.partitions import run_tags
from pipelines.errors import InputError, Problem, interrupted_query
from pipelines.logs import routed_to
from pipelines.settings import HOME_ENV, Settings
from pipelines.warehouse.dbt_runner import DbtRunError
from pipelines.warehouse.connection import writable
from pipelines.warehouse.memory_limit import out_of_memory_hint
from pipelines.warehouse.run_lock import run_lock

if TYPE_CHECKING:
    from pipelines.agreement.model import Agreement
    from pipelines.alerts.run_failure import Told

# On every CLI run: the warehouse it writes, to find its runs that a killed process left open.
CLI_TAG = "funnelpact/cli_warehouse"
PARENT_RUN_TAG = "dagster/parent_run_id"   # set on a re-execution, which copies the parent's tags


@dataclass(frozen=True)
class JobOutcome:
    run_id: str
    success: bool
    failure: str | None = None
    # of a failure: "bad_input" (exit 2), "interrupted", "crash", or "not_started" (the dbt project
    # does not parse: no run started, and none is told)
    kind: str = "crash"
    alerts: dict[str, int] = field(default_factory=dict)
    log_file: Path | None = None
    step: str | None = None  # of a failure: the step that failed first; None outside the steps
    error: str | None = None  # of a failure: the failed step's error without its name, as the channels are told it


def run_job(settings: Settings, first: str, last: str, as_of: datetime, *, ephemeral: bool = False) -> JobOutcome:
    """Execute the job for months first..last as of an instant; the run is kept in the Dagster home."""
    # The setting that names Dagster's home, read before the run exports DAGSTER_HOME.
    variable = home_variable()
    with state_named(settings, variable):
        return _run_job(settings, first, last, as_of, ephemeral=ephemeral, home_variable=variable)


def _run_job(settings: Settings, first: str, last: str, as_of: datetime, *, ephemeral: bool,
             home_variable: str) -> JobOutcome:
    import dagster as dg

    from pipelines.defs.build import build_definitions
    from pipelines.defs.dbt import stop_builds

    if ephemeral:
        instance = dg.DagsterInstance.ephemeral()
    else:
        with writable(settings.dagster_home, home_variable):
            prepare_dagster_home(settings.dagster_home)
        instance = dg.DagsterInstance.get()
    tags = {**run_tags(first, last, as_of), CLI_TAG: str(settings.warehouse)}
    log_file = settings.run_log
    with writable(settings.home, HOME_ENV):
        log_file.parent.mkdir(parents=True, exist_ok=True)
    # dagster-dbt echoes dbt's log lines on stdout, where the scorecard (and its JSON) goes:
    # keep them in a file instead; the UI has them per step as well.
    with run_lock(settings.warehouse):
        # The first load parses the dbt project, and dbt prints. Held back until the job
        # resolves: bad input there (a setting, sla/) starts no run, and must not empty the
        # previous run's log.
        prelude = io.StringIO()
        with contextlib.redirect_stdout(prelude), _logs_to(prelude):
            if not ephemeral:
                _fail_orphaned_runs(instance, settings)
            try:
                job, broken = build_definitions(settings).resolve_job_def(JOB_NAME), None
            except DbtRunError as exc:
                job, broken = None, exc
        with open(log_file, "w", encoding="utf-8") as log, contextlib.redirect_stdout(log), _logs_to(log):
            log.write(prelude.getvalue())
            if broken is not None:
                # A broken model or yml: no run starts, and the message names the file.
                return JobOutcome("", False, f"the dbt project does not parse: {broken}", "not_started",
                                  log_file=log_file)
            try:
                result = job.execute_in_process(
                    instance=instance, tags=tags, raise_on_error=False,
                    # The terminal shows the scorecard, or one line saying what failed: Dagster's
                    # console logger printed ~70 lines of stack for a missing data file. Every step's
                    # logs stay in the UI, and a failed step's stack goes to the log file below.
                    run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
                )
            except BaseException:
                # Raised past the steps (Dagster's home full, say): dbt's build may still run.
                # Stopped before the log closes, as for an interrupt below.
                stop_builds()
                raise
            if not result.success:
                failed = _first_failure(result, log_file)
                failure = failed.shown + out_of_memory_hint(failed.shown)
                if failed.kind == "interrupted":
                    stop_builds()  # before the log closes: dbt's threads still write to it
                log.write(f"\nthe run failed in {failed.step or 'an unknown step'}: {failure}\n{failed.stack}")
    alerts = _alert_counts(result)
    if result.success:
        return JobOutcome(result.run_id, True, alerts=alerts, log_file=log_file)
    return JobOutcome(result.run_id, False, failure, failed.kind, alerts, log_file, step=failed.step, error=failed.error)


def tell_failure(outcome: JobOutcome, agreements: list[Agreement], months: list[str], as_of: datetime,
                 now: datetime) -> Told:
    """Tell the channels of the revisions in force in `months` that the run of `outcome`
    failed, as the failure sensor tells a run the daemon or the UI started: a run executed
    in-process belongs to no code location, so the sensor never sees it (docs/alerts.md,
    *When a run fails*). The log channel's line, and the deliveries that failed, go to the
    run's log, or to stderr when it cannot be written."""
    from pipelines.alerts.run_failure import TICK_SECONDS, message, tell

    failure, revisions = message(outcome.run_id, JOB_NAME, outcome.step, outcome.error or outcome.failure or "",
                                 months, agreements, now, as_of)
    deadline = time.monotonic() + TICK_SECONDS
    with _RunLogOrStderr(outcome.log_file) as log, _logs_to(log):
        return tell(failure, revisions, deadline=deadline)


class _RunLogOrStderr(io.TextIOBase):
    """The run's log as far as it can be written, then stderr. Telling a run that failed on a
    full disk (or with a log file it may not write) raised when it opened the log, before Slack
    and the webhook were told, or when it closed it, after they were, as if none had been; and
    the log channel's line is not lost."""

    def __init__(self, path: Path | None):
        super().__init__()
        self._file: io.TextIOBase | None = None
        if path is not None:
            with contextlib.suppress(OSError):
                self._file = open(path, "a", encoding="utf-8")

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self._file is not None:
            try:
                written = self._file.write(text)
                self._file.flush()  # a full disk says so here, not at the close
                return written
            except OSError:
                self._close_file()
        return sys.stderr.write(text)

    def flush(self) -> None:
        if self._file is None:
            sys.stderr.flush()

    def close(self) -> None:
        self._close_file()
        super().close()

    def _close_file(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):  # what it still buffers cannot be written either
                self._file.close()
            self._file = None


def home_variable() -> str:
    """The setting that names Dagster's home: DAGSTER_HOME when set, else FUNNELPACT_HOME."""
    return "DAGSTER_HOME" if os.environ.get("DAGSTER_HOME") else HOME_ENV


@contextmanager
def state_named(settings: Settings, variable: str, *, run_log: bool = True) -> Iterator[None]:
    """What goes wrong with the state on disk outside the steps, where Dagster and the run's
    log write: it raised through the job as a Python traceback and exit 1, the code of a
    missed target. A full disk is a failed run (exit 3); Dagster's SQLite files read-only,
    damaged or held by another process make a home the run cannot use (exit 2), named like a
    wrong path.
    SQLite does not say which file: outside the steps it is Dagster's home or the run's log
    (`run_log`: False where nothing writes one, as in prune-runs)."""
    from pipelines.disk_full import DiskFull, no_room, sqlite_trouble

    try:
        yield
    except Exception as exc:
        if (full := no_room(exc)) is not None:
            log = f" or the run's log {settings.run_log}" if run_log else ""
            raise DiskFull(full.where or f"Dagster's home {settings.dagster_home}{log}") from exc
        if (trouble := sqlite_trouble(exc)) is None:
            raise
        kind, cause = trouble
        message = {
            "readonly": f"cannot write Dagster's home ({cause}); expected a folder funnelpact can write into, "
                        f"or set {variable} to another path",
            # No duration: Dagster's run storage waits SQLite's 5 s, its event log 30 s.
            "locked": f"Dagster's home is held by another process ({cause}): "
                      "wait for it (a `dagster dev` or daemon busy, a sqlite3 shell, a backup) or stop it, "
                      "and run again",
            "damaged": f"Dagster's home is damaged ({cause}): move it aside and run again; funnelpact creates "
                       "a new one (the UI's run history starts again; the warehouse and the alert state are "
                       "not touched)",
        }[kind]
        raise InputError(Problem(message, file=str(settings.dagster_home), field=variable)) from None


def _fail_orphaned_runs(instance, settings: Settings) -> None:
    """Mark failed the CLI runs on this warehouse that Dagster still has as started.

    A CLI run that was killed (SIGKILL, a closed SSH session) never reports its end, and
    with one run at a time (dagster.yaml) the daemon then queues the schedule's and the UI's
    runs for ever. Holding the warehouse lock proves no CLI run on it is alive. A re-execution
    from the UI copies its parent's tags but runs in the daemon, without that lock: it is
    left alone.
    """
    import dagster as dg

    stale = instance.get_runs(dg.RunsFilter(job_name=JOB_NAME, statuses=[dg.DagsterRunStatus.STARTED],
                                            tags={CLI_TAG: str(settings.warehouse)}))
    for run in stale:
        if PARENT_RUN_TAG in run.tags:
            continue
        instance.report_run_failed(run, "funnelpact: the CLI process of this run ended without finishing it "
                                        "(killed?); a later CLI run on the same warehouse marks it failed")


@contextmanager
def _logs_to(stream) -> Iterator[None]:
    """funnelpact's own log lines (alerts on the log channel, delivery retries) go to the run's
    log file: the terminal gets the scorecard and a one-line alert summary."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    with routed_to(handler):
        yield


def _alert_counts(result) -> dict[str, int]:
    for materialization in result.asset_materializations_for_node("alerts"):
        return {k: int(v.value) for k, v in materialization.metadata.items()
                if k in ("new_alerts", "sent", "failed", "pending")}
    return {}


class FirstFailure(NamedTuple):
    """Why a run failed, from its first failed step."""

    shown: str  # what the terminal says: the error after its step (bad input: the error alone)
    kind: str  # bad_input (exit 2), interrupted or crash
    stack: str  # for the run's log; "" when no step failed
    step: str | None  # None when no step failed
    error: str | None  # the step's error alone, as a failed run's message quotes it; None when no step failed


def _first_failure(result, log_file: Path) -> FirstFailure:
    """The first failed step's failure; when none failed, one pointing at the run's logs."""
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error
            message, cls_name = error_message(error)
            kind = ("bad_input" if cls_name in ("InputError", "WarehouseLocked")
                    else "interrupted" if cls_name in ("DagsterExecutionInterruptedError", "KeyboardInterrupt")
                    or interrupted_query(cls_name, message)
                    else "crash")
            # Bad input names its own file or field: the step would only hide that.
            shown = message if kind == "bad_input" else f"{event.step_key}: {message}"
            return FirstFailure(shown, kind, error.to_string(), event.step_key, message)
    return FirstFailure(f"see the Dagster UI or {log_file} for its logs", "crash", "", None, None)


def error_message(error) -> tuple[str, str]:
    """A failed step's error as its message says it, and the name of its class. Dagster wraps
    user errors: the InputError is the cause. Its message starts with the exception's name,
    qualified or not."""
    root = error.cause or error
    return re.sub(rf"^([\w.]+\.)?{re.escape(root.cls_name)}: ", "", root.message.strip()), root.cls_name
