"""The run-failure sensor: a failed run of the code location (the schedule's, a backfill, one
started in the UI) is told to the owning teams, once (docs/alerts.md, *When a run fails*).

No `from __future__ import annotations` here: Dagster inspects the context annotation.
"""

import logging
import sys
import time
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import dagster as dg
from dagster._core.definitions.run_request import DagsterRunReaction
from dagster._core.storage.tags import BACKFILL_ID_TAG
from dagster._utils.error import serializable_error_info_from_exc_info

from pipelines.agreement import load_agreements
from pipelines.agreement.load import windows
from pipelines.agreement.model import Agreement
from pipelines.alerts.events import UNREAD, RunFailure
from pipelines.alerts.run_failure import TICK_SECONDS, Told, first_line, message, tell
from pipelines.defs.execute import error_message
from pipelines.defs.partitions import tagged_as_of, tagged_months
from pipelines.errors import InputError
from pipelines.logs import RunLogHandler, routed_to

logger = logging.getLogger(__name__)
T = TypeVar("T")

SENSOR_NAME = "funnelpact_run_failure"


class NotTold(Exception):
    """A channel did not get a failed run's message, or the run's failure could not be read
    (what is known of it was told): the tick fails, naming the run, the channels and why."""


class Tick:
    """The time left in the tick a failed run is told in. Dagster calls the sensor's function
    once per failed run, up to 5 in one tick, each with the tick's own logger: a new logger
    is a new tick (tests/defs/test_run_failure_sensor.py holds Dagster to it)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._log: weakref.ref | None = None
        self._deadline = 0.0

    def deadline(self, log: logging.Logger) -> float:
        """The `time.monotonic()` instant the tick `log` belongs to stops telling at."""
        if self._log is None or self._log() is not log:
            self._log, self._deadline = weakref.ref(log), time.monotonic() + self.seconds
        return self._deadline

    def room_for_another(self) -> bool:
        """Whether the next failed run can start in this tick: half its time is left, more
        than its channels that never answer cost (3 tries of 5 s, 1 s and 2 s apart: 18 s for
        up to 8 of them, since that many of a run's channels are tried at once: run_failure.tell,
        AT_ONCE; a ninth waits for a turn, and the deadline may leave it not attempted)."""
        return self._deadline - time.monotonic() >= self.seconds / 2


def build_run_failure_sensor(agreements: list[Agreement], sla_dir: Path,
                             tick_seconds: float = TICK_SECONDS) -> dg.SensorDefinition:
    """`agreements`: those the code location loaded from `sla_dir`. Their channels are told
    when `sla_dir` no longer reads, a likely cause of the failure itself. `tick_seconds`: the
    time one tick spends telling failed runs."""
    tick = Tick(tick_seconds)

    # No monitored_jobs: every job of this code location, the asset job of a backfill launched
    # from the asset graph included. `funnelpact run`'s in-process runs belong to no code
    # location, so Dagster does not show them to the sensor: the command prints the failure.
    @dg.run_failure_sensor(
        name=SENSOR_NAME,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Tell the channels of the agreement revisions in force in a failed run's months that those "
                    "months were not judged: the run, its failed step and error, once (docs/alerts.md).",
    )
    def funnelpact_run_failure(context: dg.RunFailureSensorContext):
        run = context.dagster_run
        deadline = tick.deadline(context.log)
        # The log channel's line and the failed deliveries go to the tick's log, as in a run's.
        with routed_to(RunLogHandler(context.log)):
            try:
                failure, revisions, unread = readable(context, agreements, sla_dir, datetime.now(UTC))
                told = tell(failure, revisions, deadline=deadline)
            except Exception as exc:
                # Raised, it failed this run only, and the next run told in the tick turned the
                # tick green: its reaction ends the tick instead. Bad input (an unknown kind in
                # FUNNELPACT_ALERT_CHANNELS) is said, a bug comes with its traceback.
                logger.error("the failure of run %s was told to no channel: %s", run.run_id, named(exc),
                             exc_info=None if isinstance(exc, InputError) else exc)
                return reaction(run, with_cause(NotTold(
                    f"the failure of run {run.run_id} was told to no channel: {named(exc)}" + NOT_TRIED_AGAIN), exc))
        # The cursor moves past the run, told or not (Dagster's, for a sensor with side effects):
        # a failed tick in the UI is what is left to see.
        error = not_told(run.run_id, told, unread)
        if error is None:
            context.log.info(f"the failure of run {run.run_id} was told to {', '.join(told.sent) or 'no channel'}")
        if error is not None or not tick.room_for_another():
            # A reaction returned ends the tick, its cursor just past this run: the failed runs
            # after it are the next tick's, with its own time. A run not told, or told only what
            # is known of it, ends it too: the daemon gives a tick the status of its last run
            # (dagster/_daemon/sensor.py, _handle_run_reactions), so a run told after it turned
            # the tick green and hid the channels that were not told, or the bug.
            return reaction(run, error)

    return funnelpact_run_failure


NOT_TRIED_AGAIN = ". It is not tried again: the run's page in the Dagster UI has the failure"


def not_told(run_id: str, told: Told, unread: Exception | None) -> NotTold | None:
    """Why the tick that told run `run_id` fails: channels not told, or its failure not read
    (`unread`, the bug: only what is known of the run was told); None when neither."""
    missed = "; ".join(f"{key} ({reason})" for key, reason in told.failed.items())
    sent = ", ".join(told.sent)
    if unread is not None:
        said = (f"the failure of run {run_id} could not be read, a bug in funnelpact ({named(unread)}): what is "
                f"known of the run was told to {sent or 'no channel'}" + (f"; not to {missed}" if missed else ""))
    elif missed:
        said = f"the failure of run {run_id} was not told to {missed}" + (f"; it was told to {sent}" if sent else "")
    else:
        return None
    return with_cause(NotTold(said + NOT_TRIED_AGAIN), unread)


def with_cause(error: NotTold, cause: Exception | None) -> NotTold:
    """`error` caused by `cause`: the tick's error in the UI then shows the bug's traceback too."""
    error.__cause__ = cause
    return error


def named(exc: Exception) -> str:
    """`KeyError: 'step_key'`: an exception's class and the first line of its message."""
    return first_line(f"{type(exc).__name__}: {exc}")


def reaction(run: dg.DagsterRun, error: Exception | None) -> DagsterRunReaction:
    """What Dagster makes of a sensor's return or exception for `run` (its tick's status, the
    run's log line `Sensor … acted on run status FAILURE`), made here to end the tick with it."""
    if error is None:
        return DagsterRunReaction(dagster_run=run, run_status=dg.DagsterRunStatus.FAILURE)
    # Dagster's error info wants a traceback (serializable_error_info_from_exc_info refuses
    # None), and only a raised exception has one.
    try:
        raise error
    except NotTold:
        return DagsterRunReaction(dagster_run=run, run_status=dg.DagsterRunStatus.FAILURE,
                                  error=serializable_error_info_from_exc_info(sys.exc_info()))


def readable(context: dg.RunFailureSensorContext, loaded: list[Agreement], sla_dir: Path,
             now: datetime) -> tuple[RunFailure, list[Agreement], Exception | None]:
    """`what_to_tell`, or, when that raised (a bug: tags or events it did not expect), what is
    known for sure of the run, and the exception: the run is told all the same."""
    try:
        return *what_to_tell(context, loaded, sla_dir, now), None
    except Exception as exc:
        run = context.dagster_run
        logger.error("the failure of run %s could not be read, a bug in funnelpact (%s): telling what is known of "
                     "the run", run.run_id, named(exc), exc_info=exc)
        months = _if_it_reads(lambda: tagged_months(run.tags), [], f"the months of run {run.run_id}")
        as_of = _if_it_reads(lambda: tagged_as_of(run.tags), None, f"the as-of of run {run.run_id}")
        agreements = _if_it_reads(lambda: _agreements(loaded, sla_dir), loaded, f"the agreements in {sla_dir}")
        return *message(run.run_id, run.job_name, None, UNREAD + named(exc), months, agreements, now, as_of), exc


def _if_it_reads(read: Callable[[], T], otherwise: T, what: str) -> T:
    """`read()`, or `otherwise` when it raises too: the message goes out with less, not at all."""
    try:
        return read()
    except Exception as exc:
        logger.warning("%s cannot be read either (%s)", what, named(exc))
        return otherwise


def what_to_tell(context: dg.RunFailureSensorContext, loaded: list[Agreement], sla_dir: Path,
                 now: datetime) -> tuple[RunFailure, list[Agreement]]:
    """The message of a failed run, and the revisions whose channels are told."""
    run = context.dagster_run
    months = tagged_months(run.tags) or backfill_months(context)
    agreements = _agreements(loaded, sla_dir)
    step, error = first_failure(context)
    return message(run.run_id, run.job_name, step, error, months, agreements, now, tagged_as_of(run.tags))


def backfill_months(context: dg.RunFailureSensorContext) -> list[str]:
    """The months of the backfill a run that names none belongs to ([] for none): the first run
    of a backfill launched from the asset graph loads and builds the facts only, its months are
    the backfill's (the partitions it targets, as the instance keeps them)."""
    backfill_id = context.dagster_run.tags.get(BACKFILL_ID_TAG)
    if not backfill_id:
        return []
    # Whatever fails here, the run's failure is still told: to the current month's revisions.
    try:
        backfill = context.instance.get_backfill(backfill_id)
        if backfill is None:
            raise LookupError("the instance no longer has it")
        if not backfill.is_asset_backfill:
            return sorted(backfill.partition_names or [])
        if context.repository_def is None:
            raise LookupError("the sensor was given no code location to read its assets with")
        targets = backfill.get_asset_backfill_data(context.repository_def.asset_graph).target_subset
        return sorted({key.partition_key for key in targets.iterate_asset_partitions() if key.partition_key})
    except Exception as exc:
        logger.warning("the months of backfill %s, whose run %s failed, cannot be read (%s: %s): telling the "
                       "revisions in force in the current month", backfill_id, context.dagster_run.run_id,
                       type(exc).__name__, exc)
        return []


def _agreements(loaded: list[Agreement], sla_dir: Path) -> list[Agreement]:
    """The agreements as `sla_dir` holds them now (a revision merged since the code location
    loaded has its channels told); those it loaded when the folder no longer reads."""
    try:
        return load_agreements(sla_dir)
    except (InputError, OSError) as exc:
        logger.error("cannot read the agreements in %s (%s): telling the channels of the agreements the code "
                     "location loaded instead (%s)", sla_dir, exc, windows(loaded))
        return loaded


def first_failure(context: dg.RunFailureSensorContext) -> tuple[str | None, str]:
    """The first failed step and its error (the message cuts it to its first line); (None, the
    run's own error) when it failed outside its steps (its process killed, run monitoring)."""
    for event in context.get_step_failure_events():
        if event.step_failure_data and event.step_failure_data.error:
            return event.step_key, error_message(event.step_failure_data.error)[0]
    failure = context.failure_event
    error = failure.job_failure_data.error if failure.event_specific_data else None
    return None, error_message(error)[0] if error else failure.message or "the run failed"

