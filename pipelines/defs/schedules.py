"""The daily schedule: judge the current month on pace, and earlier months while they settle
(cohorts maturing, hand-offs pending) and once they have."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg

from pipelines.agreement.load import has_started, load_agreements, span, windows
from pipelines.agreement.model import Agreement
from pipelines.agreement.months import is_time_zone, month_index, month_of
from pipelines.defs.partitions import month_span, months_to_judge, run_tags
from pipelines.errors import InputError, Problem

CRON_ENV = "FUNNELPACT_SCHEDULE_CRON"
TIMEZONE_ENV = "FUNNELPACT_SCHEDULE_TIMEZONE"
DEFAULT_CRON = "0 6 * * *"


def daily_run_request(agreements: list[Agreement], tick: datetime,
                      previous_tick: datetime | None = None) -> dg.RunRequest | dg.SkipReason:
    """The run of one tick: the months to judge as of the tick, as one partition range."""
    as_of = tick.astimezone(UTC)
    months = months_to_judge(agreements, as_of, previous_tick)
    if not months:
        _, last = span(agreements)
        if month_index(month_of(as_of, agreements[0].spec.timezone)) > month_index(last):
            return dg.SkipReason(f"every agreement window has ended ({last} was the last month) and its months "
                                 "have settled: add the next revision to sla/ to go on")
        if any(has_started(agreements, m, as_of) for a in agreements for m in a.months()):
            # Between two revisions: the earlier one's months have settled, the next has not begun.
            return dg.SkipReason(f"no agreement is in force on {as_of:%Y-%m-%d} and the months of the earlier "
                                 f"windows have settled (windows: {windows(agreements)}): the next tick in a "
                                 "window judges again")
        return dg.SkipReason(f"no agreement month has started by {as_of:%Y-%m-%d}")
    first, last = month_span(months)
    return dg.RunRequest(
        run_key=f"daily-{as_of:%Y-%m-%dT%H:%M}",
        tags=run_tags(first, last, as_of),
    )


# The code location reads sla/ when it loads: its partitions and this schedule's months
# follow that reading until it is reloaded, while each run's steps read sla/ afresh.
RELOAD_HINT = ("the agreements in {sla_dir} have changed since the code location loaded them: reload it "
               "(the UI's Deployment page, *Reload*, or restart `dagster dev` / the code server) so the "
               "schedule and the partitions follow them (docs/operations.md)")


def build_daily_schedule(job, agreements: list[Agreement], sla_dir: Path) -> dg.ScheduleDefinition:
    timezone = os.environ.get(TIMEZONE_ENV) or agreements[0].spec.timezone
    cron = os.environ.get(CRON_ENV) or DEFAULT_CRON
    _check_settings(cron, timezone)

    @dg.schedule(
        name="funnelpact_daily",
        cron_schedule=cron,
        execution_timezone=timezone,
        job=job,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        # "Every day" was wrong for a weekday or hourly cron; the variables say where to change it.
        description=f"Cron '{cron}' in {timezone} ({CRON_ENV}, {TIMEZONE_ENV}): judge the current month "
                    "and the months still settling or settled within a week, as of the tick.",
    )
    def funnelpact_daily(context: dg.ScheduleEvaluationContext):
        tick = context.scheduled_execution_time
        request = daily_run_request(agreements, tick, previous_tick(cron, tick, timezone))
        # Agreements that no longer load fail the tick with their file and line: the run would
        # fail on them in its first step.
        if load_agreements(sla_dir) != agreements:
            hint = RELOAD_HINT.format(sla_dir=sla_dir)
            if isinstance(request, dg.SkipReason):   # e.g. "add the next revision", just added
                return dg.SkipReason(f"{request.skip_message}; but {hint}")
            context.log.warning(hint)
        return request

    return funnelpact_daily


def previous_tick(cron: str, tick: datetime, timezone: str) -> datetime:
    """The cron's tick before `tick` (whether or not a run was made then)."""
    from dagster._utils.schedules import get_latest_completed_cron_tick

    return get_latest_completed_cron_tick(cron, tick - timedelta(microseconds=1), timezone)


def _check_settings(cron: str, timezone: str) -> None:
    """Bad schedule settings are bad input, named, before Dagster's traceback of the same."""
    from dagster._utils.schedules import is_valid_cron_schedule

    problems = []
    if not is_valid_cron_schedule(cron):
        problems.append(Problem(f"{cron!r} is not a cron schedule: expected five fields, e.g. '0 6 * * *' "
                                "(06:00 every day), or an alias such as '@daily'", field=CRON_ENV))
    if not is_time_zone(timezone):
        problems.append(Problem(f"{timezone!r} is not an IANA time zone: expected e.g. 'Europe/Berlin'",
                                field=TIMEZONE_ENV))
    if problems:
        raise InputError(problems)


def system_zone_disagrees(timezone: str, start: datetime, days: int = 731) -> datetime | None:
    """The first instant of the `days` from `start` at which the system's zoneinfo files give
    `timezone` another UTC offset than the `tzdata` package does, or None.

    funnelpact's months come from the package (`months.zone`); Dagster's daemon builds the
    schedule's ticks with `ZoneInfo`, which prefers the system's files, and those lag or lead
    on their own. Checked every 3 hours: an offset that differs for less is no daily tick's."""
    from zoneinfo import ZoneInfo

    from pipelines.agreement.months import zone

    system, ours = ZoneInfo(timezone), zone(timezone)
    for step in range(days * 8):
        instant = start + timedelta(hours=3 * step)
        if instant.astimezone(system).utcoffset() != instant.astimezone(ours).utcoffset():
            return instant
    return None
