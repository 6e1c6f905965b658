"""Calendar months (`YYYY-MM`) and their boundaries in an agreement's timezone."""

from __future__ import annotations

import re
from contextlib import suppress
from datetime import UTC, date, datetime, timedelta
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, available_timezones

from pipelines.errors import InputError, Problem

# The months an agreement or an option may name: years 1900 to 2999, so every instant
# derived from one (its end plus a cohort window or a hand-off limit of up to ten years, in
# any timezone) stays far inside the years Python's datetime holds (1 to 9999); 0000-01 and
# 9999-12 validated and then crashed plan and run.
MONTH_PATTERN = r"^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])$"
MONTH_FORMAT = "YYYY-MM, a year from 1900 to 2999"
_MONTH_RE = re.compile(MONTH_PATTERN)
# Arithmetic goes one step further: the month after 2999-12 is where that month ends.
_ANY_MONTH_RE = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


def is_time_zone(name: str) -> bool:
    """Whether `name` is an IANA time zone, as the agreement, the importers and the schedule
    take one. Asking ZoneInfo is not enough: ZoneInfo('America') raises IsADirectoryError
    (tzdata's folder of American zones), and ZoneInfo('localtime') or ZoneInfo('posixrules')
    read a file that DuckDB, which converts the times, does not know as a zone."""
    return name in _time_zones()


@cache
def _time_zones() -> frozenset[str]:
    # 'localtime' is the machine's own zone, listed from the system's zoneinfo folder.
    return frozenset(available_timezones() - {"localtime"})


def is_old_zone_name(name: str) -> bool:
    """Whether `name` is an old name the tz database keeps for compatibility (US/Eastern,
    Asia/Calcutta, GMT): a link to a zone, and not the name of a place's zone in its
    zone.tab. UTC is one too (of Etc/UTC), and the name everyone writes: never old here."""
    return name in _links() and name not in _place_zones() and name != "UTC"


def current_zone_name(name: str) -> str | None:
    """The name the tz database now gives the old zone name `name` (US/Eastern:
    America/New_York), or None where no one name is it.

    A link names the zone with the same clock changes, which is not always the place's:
    Iceland links to Africa/Abidjan, Canada/Eastern to the zone Toronto and Nassau share.
    So the name is the one place's zone (zone.tab) on that zone, of several the one in the
    link's country (Canada/, US/) or continent (Europe/): Asia/Kolkata for Asia/Calcutta,
    America/Toronto for Canada/Eastern (not Nassau), and no name for Iceland (Abidjan,
    Accra, Reykjavik, ...) nor for EST (a kind of time, not a place)."""
    if name in _TIME_KINDS:
        return None
    target = _links().get(name)
    if target is None or target.startswith("Etc/"):
        return target  # GMT0, Zulu: the offset's own name (Etc/GMT, Etc/UTC)
    places = {place: country for place, country in _place_zones().items() if _links().get(place, place) == target}
    prefix = name.split("/")[0] if "/" in name else None
    if len(places) > 1 and prefix:
        places = {place: country for place, country in places.items()
                  if (country == _LINK_COUNTRIES[prefix] if prefix in _LINK_COUNTRIES else place.startswith(prefix + "/"))}
    if len(places) > 1:
        # Singapore links to the zone Kuala Lumpur shares: the place of the same name is meant.
        named = [place for place in places if place.rsplit("/", 1)[-1] == name.rsplit("/", 1)[-1]]
        places = dict.fromkeys(named) if len(named) == 1 else places
    return next(iter(places)) if len(places) == 1 else None


# The folders of old names named after a country, not a continent.
_LINK_COUNTRIES = {"US": "US", "Canada": "CA", "Brazil": "BR", "Chile": "CL", "Mexico": "MX"}
# Old names of a kind of time that tzdata links to one zone keeping it (EET to Europe/Athens):
# whoever wrote EET may be in Helsinki or Bucharest.
_TIME_KINDS = frozenset({"CET", "EET", "MET", "WET", "EST", "MST", "HST"})


@cache
def _links() -> dict[str, str]:
    """tzdata's links, each old name to the zone it is (tzdata.zi's `L zone name` lines)."""
    text = resources.files("tzdata.zoneinfo").joinpath("tzdata.zi").read_text(encoding="utf-8")
    links = dict(line.split()[:0:-1] for line in text.splitlines() if line.startswith("L "))
    for name, target in links.items():  # a link to a link: to the zone at its end
        while target in links:
            target = links[target]
        links[name] = target
    return links


@cache
def _place_zones() -> dict[str, str]:
    """The zones of places (zone.tab's third column), each with its country code."""
    text = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    rows = (line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))
    return {row[2]: row[0] for row in rows}


@cache
def zone(name: str) -> ZoneInfo:
    """The zone `name` from the `tzdata` package (a dependency), else from the system.

    ZoneInfo(name) prefers the system's zoneinfo files, which lag or lead on their own: with a
    system's tzdata 2025b and DuckDB's 2026f, Vancouver's December 2026 began at 08:00 UTC
    here while the importers, converting in DuckDB, read a CRM's 00:30 on December 1 as 07:30
    UTC, a November event. The package's release travels with the lockfile, like DuckDB's.
    """
    with suppress(ModuleNotFoundError, OSError, ValueError):
        with resources.files("tzdata.zoneinfo").joinpath(*name.split("/")).open("rb") as file:
            return ZoneInfo.from_file(file, key=name)
    return ZoneInfo(name)


def is_month_field(path: tuple) -> bool:
    """Whether the agreement field at `path` holds a month: spec.effective.from and .to, and
    the keys of spec.seasonality and spec.targets."""
    last = str(path[-1]) if path else ""
    return (last in {"from", "to"} and "effective" in path) or (
        len(path) >= 2 and path[-2] in {"seasonality", "targets"}
    )


def is_month(value: object) -> bool:
    return isinstance(value, str) and bool(_MONTH_RE.match(value))


def not_a_month(shown: str) -> str:
    """The message for a value that is not a month, `shown` as its source writes it."""
    return f"{shown} is not a month: expected {MONTH_FORMAT}"


def require_month(value: str, field: str) -> str:
    """A YYYY-MM month, or InputError naming `field` (an option, or what a library call was given)."""
    if not is_month(value):
        raise InputError(Problem(not_a_month(repr(value)), field=field))
    return value


def parse_month(value: str) -> tuple[int, int]:
    if not _ANY_MONTH_RE.match(value):
        raise ValueError(f"expected a month as YYYY-MM, got {value!r}")
    year, month = value.split("-")
    return int(year), int(month)


def month_index(value: str) -> int:
    year, month = parse_month(value)
    return year * 12 + month - 1


def month_from_index(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def add_months(value: str, n: int) -> str:
    return month_from_index(month_index(value) + n)


# In English, as the rest of the pack: calendar.month_abbr follows the machine's LC_TIME, and the
# same warehouse would draw "Jan" on one machine and "janv." on another.
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def month_name(value: str) -> str:
    """A month's short name: "Jan" for 2026-01."""
    return _MONTH_NAMES[parse_month(value)[1] - 1]


def month_range(first: str, last: str) -> list[str]:
    """Every month from `first` to `last`, both included."""
    return [month_from_index(i) for i in range(month_index(first), month_index(last) + 1)]


def first_day(value: str) -> date:
    year, month = parse_month(value)
    return date(year, month, 1)


def days_in_month(value: str) -> int:
    return (first_day(add_months(value, 1)) - first_day(value)).days


def month_bounds_utc(value: str, timezone: str) -> tuple[datetime, datetime]:
    """The month's [start, end) as naive UTC instants, local midnight to local midnight.

    Computed with zoneinfo so DST shifts at a month boundary land exactly; the warehouse
    then compares UTC instants and never needs time-zone functions in SQL.
    """
    return day_start_utc(first_day(value), timezone), day_start_utc(first_day(add_months(value, 1)), timezone)


def day_start_utc(day: date, timezone: str) -> datetime:
    """The first instant of a local date, as a naive UTC instant: local midnight, or, where a
    DST change skips midnight, the instant of the change (the first the clocks show of that
    date). A repeated midnight (clocks back from 01:00 to 00:00) starts the day at its first
    occurrence. A date the zone skips whole (Pacific/Apia's 2011-12-30) starts where the next
    one does: it lasts no time."""
    tz = zone(timezone)
    midnight = datetime(day.year, day.month, day.day)
    # fold=0 reads a repeated midnight as its first occurrence, and a skipped one with the
    # offset before the change: an instant inside the date, but past its start when the gap
    # does not begin at midnight (Toronto's 1919-03-30 23:30 -> 00:30 put March 31's start at
    # 01:00 EDT, half an hour late).
    start = midnight.replace(tzinfo=tz).astimezone(UTC).replace(tzinfo=None)
    if _local(start, tz) == midnight:
        return start
    # A skipped midnight: the change is between the instant read with the offset after it
    # (fold=1, before the change) and `start`; the day begins at the first second whose local
    # date is `day` (offsets and changes are whole seconds).
    low = midnight.replace(tzinfo=tz, fold=1).astimezone(UTC).replace(tzinfo=None)
    while start - low > timedelta(seconds=1):
        middle = low + timedelta(seconds=(start - low).total_seconds() // 2)
        if _local(middle, tz).date() >= day:
            start = middle
        else:
            low = middle
    return start


def _local(instant: datetime, tz: ZoneInfo) -> datetime:
    """The local wall time of a naive UTC instant."""
    return instant.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None)


def days_elapsed(value: str, timezone: str, as_of: datetime) -> float:
    """Local calendar days of the month elapsed at `as_of` (naive UTC): 1 for each day that
    has ended, the day under way its share of its own length (23 or 25 hours on a DST
    change). A date the zone skips (no length) counts 1 once the clocks have passed it. The
    warehouse's `int_agreement_months_as_of` computes the same."""
    first = first_day(value)
    starts = [day_start_utc(first + timedelta(days=n), timezone) for n in range(days_in_month(value) + 1)]
    return sum(_day_share(start, end, as_of) for start, end in zip(starts, starts[1:]))


def _day_share(start: datetime, end: datetime, as_of: datetime) -> float:
    if end <= as_of:
        return 1.0
    if start >= as_of:
        return 0.0
    return (as_of - start) / (end - start)


def naive_utc(value: datetime | str) -> datetime:
    """An instant (a datetime, or ISO 8601 text; no offset = UTC) as naive UTC, the way the
    warehouse keeps every timestamp."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def parse_as_of(text: str | None) -> datetime:
    """An ISO instant (naive = UTC) or now, as an aware UTC datetime in whole seconds.

    A fraction of a second is dropped: dbt judges the facts as of the whole second
    (format_as_of), and a judgement kept as of 16:00:00.5 read as another build than the
    facts it judged, both printed as 16:00:00.
    """
    if not text:
        return datetime.now(UTC).replace(microsecond=0)
    return naive_utc(text).replace(tzinfo=UTC, microsecond=0)


def month_of(instant: datetime, timezone: str) -> str:
    """The local month (`YYYY-MM`) that holds an instant; naive instants are UTC."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    local = instant.astimezone(zone(timezone))
    return f"{local.year:04d}-{local.month:02d}"


def spans(months: list[str]) -> str:
    """Months as consecutive runs: '2025-11..2025-12, 2027-01'.

    >>> spans(["2025-11", "2025-12", "2027-01"])
    '2025-11..2025-12, 2027-01'
    """
    runs: list[list[str]] = []
    for month in sorted(months, key=month_index):
        if runs and month_index(month) == month_index(runs[-1][-1]) + 1:
            runs[-1].append(month)
        else:
            runs.append([month])
    return ", ".join(r[0] if len(r) == 1 else f"{r[0]}..{r[-1]}" for r in runs)
