"""Monthly partitions in the agreement's timezone, and which months a run judges."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from dagster import MonthlyPartitionsDefinition

from pipelines.agreement.load import span
from pipelines.agreement.model import Agreement
from pipelines.agreement.months import add_months, is_month, month_bounds_utc, month_index, month_of, month_range, parse_as_of

MONTH_FORMAT = "%Y-%m"
AS_OF_TAG = "funnelpact/as_of"
# Dagster's own tags of a range run (single-run backfill, CLI, schedule).
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"   # a run of one month (picked in the UI's launchpad)


def monthly_partitions(agreements: list[Agreement]) -> MonthlyPartitionsDefinition:
    first, last = span(agreements)
    zone = next(a.spec.timezone for a in agreements if a.spec.effective.from_ == first)
    # end_offset=1: the current, still open month is a partition too (it is judged on pace);
    # end_date: no month after the last agreement's window, which no revision could judge.
    return MonthlyPartitionsDefinition(
        start_date=first,
        end_date=add_months(last, 1),
        timezone=zone,   # the first agreement's
        fmt=MONTH_FORMAT,
        end_offset=1,
    )


# How long a month stays in the default run after it has settled. The first run after it
# settles judges its final statuses (and alerts them); a week leaves room for ticks missed
# while the daemon was down, the 25-hour day of a DST change, and weekly crons. Judging a
# settled month again costs one month of checks and alerts nothing new.
SETTLED_GRACE = timedelta(days=7)


def months_to_judge(agreements: list[Agreement], as_of: datetime, previous_tick: datetime | None = None) -> list[str]:
    """The current month and every earlier month still settling (SPEC §6: cohorts maturing;
    also hand-offs pending), or settled less than SETTLED_GRACE ago, as of `as_of`; and
    with the schedule's `previous_tick`, every month settled since that tick, however rare
    the ticks: a monthly cron would otherwise never judge a month final."""
    months = []
    now = as_of.astimezone(UTC).replace(tzinfo=None)
    since = previous_tick.astimezone(UTC).replace(tzinfo=None) if previous_tick else now
    for a in agreements:
        current = month_of(as_of, a.spec.timezone)
        settling = settling_time(a)
        for month in a.months():
            if month_index(month) > month_index(current):
                continue
            _, end = month_bounds_utc(month, a.spec.timezone)
            settled = end + settling
            if month == current or now < settled + SETTLED_GRACE or since < settled:
                months.append(month)
    return sorted(set(months))


def settling_time(agreement: Agreement) -> timedelta:
    """How long after its end a month settles: every KPI of it is final, as the marts judge
    it, once the longest of its cohort windows, the first-touch limit and the decision limit
    (which also closes the recycle rate) has passed."""
    spec = agreement.spec
    limits = [timedelta(days=c.window_days) for c in spec.conversion.values() if c.window_days]
    if spec.handoff and spec.handoff.first_touch:
        limits.append(timedelta(hours=float(spec.handoff.first_touch.within_hours)))
    if spec.handoff and spec.handoff.decision:
        limits.append(timedelta(days=float(spec.handoff.decision.within_days)))
    return max(limits, default=timedelta(0))


def month_span(months: list[str]) -> tuple[str, str]:
    return min(months, key=month_index), max(months, key=month_index)


def tagged_as_of(tags: Mapping[str, str]) -> datetime | None:
    """The as-of instant a run was started with (CLI, schedule); None for a run started in
    the UI, which has no such tag."""
    return parse_as_of(tags[AS_OF_TAG]) if tags.get(AS_OF_TAG) else None


def run_tags(first: str, last: str, as_of: datetime) -> dict[str, str]:
    """The tags of a run judging months first..last as of an instant (CLI and schedule)."""
    return {RANGE_START: first, RANGE_END: last, AS_OF_TAG: as_of.isoformat()}


def tagged_months(tags: Mapping[str, str]) -> list[str]:
    """The months a run was to judge, as its tags say (a range, or one month); [] for a run
    that names none (the UI launchpad without a partition, the first run of a backfill
    launched from the asset graph, which builds the facts only)."""
    first, last = tags.get(RANGE_START) or tags.get(PARTITION_TAG), tags.get(RANGE_END) or tags.get(PARTITION_TAG)
    if not (is_month(first) and is_month(last)):
        return []
    return month_range(first, last)
