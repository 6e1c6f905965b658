"""Monthly partitions in the agreement's timezone, and which months a run judges."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from dagster import MonthlyPartitionsDefinition

from pipelines.agreement.load import span
from pipelines.agreement.model import Agreement
from pipelines.agreement.months import add_months, month_bounds_utc, month_index, month_of, parse_as_of

MONTH_FORMAT = "%Y-%m"
AS_OF_TAG = "funnelpact/as_of"
# Dagster's own tags of a range run (single-run backfill, CLI, schedule).
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


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


def months_to_judge(agreements: list[Agreement], as_of: datetime) -> list[str]:
    """The current month and every earlier month whose cohorts are still maturing (SPEC §6)."""
    months = []
    for a in agreements:
        current = month_of(as_of, a.spec.timezone)
        longest = max((c.window_days or 0 for c in a.spec.conversion.values()), default=0)
        for month in a.months():
            if month_index(month) > month_index(current):
                continue
            _, end = month_bounds_utc(month, a.spec.timezone)
            maturing = end + timedelta(days=longest) > as_of.astimezone(UTC).replace(tzinfo=None)
            if month == current or maturing:
                months.append(month)
    return sorted(set(months))


def month_span(months: list[str]) -> tuple[str, str]:
    return min(months, key=month_index), max(months, key=month_index)


def tagged_as_of(tags: Mapping[str, str]) -> datetime | None:
    """The as-of instant a run was started with (CLI, schedule); None for a run started in
    the UI, which has no such tag."""
    return parse_as_of(tags[AS_OF_TAG]) if tags.get(AS_OF_TAG) else None


def run_tags(first: str, last: str, as_of: datetime) -> dict[str, str]:
    """The tags of a run judging months first..last as of an instant (CLI and schedule)."""
    return {RANGE_START: first, RANGE_END: last, AS_OF_TAG: as_of.isoformat()}
