"""The run-failure sensor: a failed run of the code location (the schedule's, a backfill, one
started in the UI) is told to the owning teams, once (docs/alerts.md, *When a run fails*).

No `from __future__ import annotations` here: Dagster inspects the context annotation.
"""

import logging
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from pipelines.agreement import load_agreements
from pipelines.agreement.load import windows
from pipelines.agreement.model import Agreement
from pipelines.alerts.events import RunFailure
from pipelines.alerts.run_failure import concerned, tell
from pipelines.alerts.state import iso
from pipelines.defs.execute import error_message
from pipelines.defs.partitions import tagged_as_of, tagged_months
from pipelines.errors import InputError
from pipelines.logs import RunLogHandler, routed_to

logger = logging.getLogger(__name__)

SENSOR_NAME = "funnelpact_run_failure"
# An error's first line, cut: a Slack field holds 2,000 characters, and a message is read on a phone.
ERROR_CHARS = 300


class NotTold(Exception):
    """A channel did not get a failed run's message: the tick fails, naming it and why."""


def build_run_failure_sensor(agreements: list[Agreement], sla_dir: Path) -> dg.SensorDefinition:
    """`agreements`: those the code location loaded from `sla_dir`. Their channels are told
    when `sla_dir` no longer reads, a likely cause of the failure itself."""

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
        run_id = context.dagster_run.run_id
        # The log channel's line and the failed deliveries go to the tick's log, as in a run's.
        with routed_to(RunLogHandler(context.log)):
            failure, revisions = what_to_tell(context, agreements, sla_dir, datetime.now(UTC))
            told = tell(failure, revisions)
        if told.failed:
            # The cursor moves past the run all the same (Dagster's, for a sensor with side
            # effects): a failed tick in the UI is what is left to see.
            raise NotTold(f"the failure of run {run_id} was not told to "
                          + "; ".join(f"{key} ({reason})" for key, reason in told.failed.items())
                          + (f"; it was told to {', '.join(told.sent)}" if told.sent else "")
                          + ". It is not tried again: the run's page in the Dagster UI has the failure")
        context.log.info(f"the failure of run {run_id} was told to {', '.join(told.sent) or 'no channel'}")

    return funnelpact_run_failure


def what_to_tell(context: dg.RunFailureSensorContext, loaded: list[Agreement], sla_dir: Path,
                 now: datetime) -> tuple[RunFailure, list[Agreement]]:
    """The message of a failed run, and the revisions whose channels are told."""
    run = context.dagster_run
    months = tagged_months(run.tags)
    revisions = concerned(_agreements(loaded, sla_dir), months, now)
    step, error = first_failure(context)
    as_of = tagged_as_of(run.tags)
    return RunFailure(
        run_id=run.run_id, job=run.job_name, step=step, error=error, months=tuple(months),
        revisions=tuple((a.name, a.revision) for a in revisions), detected_at=iso(now),
        as_of=iso(as_of) if as_of else "",
    ), revisions


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
    """The first failed step and the first line of its error; (None, the run's own error)
    when it failed outside its steps (its process killed, run monitoring)."""
    for event in context.get_step_failure_events():
        if event.step_failure_data and event.step_failure_data.error:
            return event.step_key, first_line(error_message(event.step_failure_data.error)[0])
    failure = context.failure_event
    error = failure.job_failure_data.error if failure.event_specific_data else None
    return None, first_line(error_message(error)[0] if error else failure.message or "the run failed")


def first_line(text: str) -> str:
    line = (text.strip().splitlines() or [""])[0].strip()
    return line if len(line) <= ERROR_CHARS else line[:ERROR_CHARS - 1] + "…"
