"""How the importers read an export's times: naive local times of a zone, by a strptime format or
ISO 8601, into the canonical UTC text. SQL builders, so DuckDB runs them over whole exports.

The rule that keeps times honest: a value is either converted from the import's zone to UTC,
or kept as it is only when it is no time the loader reads either (so the loader quarantines
its row as bad_timestamp). The loader reads a naive ISO value as UTC: one kept as it is would
be shifted by the zone's offset without a word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from pipelines.agreement.months import is_time_zone
from pipelines.data.parsing import DATE, NAIVE, WITH_OFFSET
from pipelines.data.sources import quote
from pipelines.errors import InputError, Problem

# What the importers write.
ISO_Z = "%Y-%m-%dT%H:%M:%SZ"
# Without a format, exports' local times are read in these shapes: ISO first, then US-style
# (month first) for report exports, with and without seconds, and also with the comma that
# Salesforce's ICU locale formats put after the date ('1/28/2008, 4:30 PM' for en_US).
DEFAULT_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S",
                   "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M", "%Y-%m-%d",
                   *(f"%m/%d/%Y{comma} {time}" for comma in ("", ",") for time in (
                       "%I:%M %p", "%I:%M:%S %p", "%H:%M", "%H:%M:%S")),
                   "%m/%d/%Y"]
# DuckDB's %Y reads a year of any number of digits: a spreadsheet's short date '1/5/26 9:15' was
# 5 January of the year 26, which the loader takes. So a year %Y reads is taken from 1000 on,
# and without a format the US shapes are also read with a two-digit year (%y: 00-68 is 20xx).
FIRST_YEAR = 1000
TWO_DIGIT_YEAR_FORMATS = [f.replace("%Y", "%y") for f in DEFAULT_FORMATS if f.startswith("%m/")]


def check_timezone(tz: str, field: str = "--timezone", file: str | None = None) -> str:
    if not is_time_zone(tz):
        raise InputError(Problem(f"unknown time zone '{tz}'; expected an IANA name such as "
                                 "UTC or America/Mexico_City", file=file, field=field))
    return tz


def check_format(fmt: str, field: str, file: str | None = None) -> str:
    try:
        with duckdb.connect() as con:
            con.execute("select try_strptime('2026-01-05 10:00:00', ?)", [fmt]).fetchall()
    except duckdb.Error:
        raise InputError(Problem(f"{fmt!r} is not a strptime format: expected one such as "
                                 "'%d/%m/%Y %H:%M' (docs/data.md)", file=file, field=field)) from None
    return fmt


# strptime directives of a time of day: a format's date part is what comes before the first.
_TIME_OF_DAY = re.compile(r"%[HIMSpfgnzZ]")
# US month-first dates (what DEFAULT_FORMATS read), with the first part captured.
_SLASHED = r"^(\d{1,2})/\d{1,2}/(\d{2}|\d{4})\b"


def date_part(fmt: str) -> str | None:
    """'%d/%m/%Y %H:%M' -> '%d/%m/%Y': how the format writes a date without a time of day."""
    part = _TIME_OF_DAY.split(fmt, maxsplit=1)[0].rstrip(" T,")
    return part if "%" in part else None


@dataclass(frozen=True)
class Times:
    """The zone of an export's naive times and the strptime format they are written in
    (None: ISO 8601 and the US formats of DEFAULT_FORMATS), and the options that set them, for
    messages (a mapping's fields, or the command's options)."""

    zone: str = "UTC"
    format: str | None = None
    format_option: str = "--timestamp-format"
    # False when the zone is UTC only because none was given: date-only values are then placed
    # in UTC days, which the user is told (Export.check_times).
    zone_given: bool = True
    zone_option: str = "--timezone"

    def formats(self) -> list[str]:
        if not self.format:
            return DEFAULT_FORMATS
        # A report export writes date-only fields (a close date) with the date part only.
        return list(dict.fromkeys(f for f in (self.format, date_part(self.format)) if f))

    def _strptime(self, v: str, formats: list[str]) -> str:
        """SQL: trimmed text `v` read by the first of `formats` that reads it, or NULL. Without
        a format of the export's, the default formats' ISO and US shapes are told apart by a
        '/', and a value is tried against those of its shape only: a try_strptime that fails
        is slow (0.5 µs a value and format), and a million US times failed the seven ISO
        formats first."""
        if self.format:
            return f"try_strptime({v}, {_sql_list(formats)})"
        slashed, other = [f for f in formats if "/" in f], [f for f in formats if "/" not in f]
        return (f"case when strpos({v}, '/') > 0 then {_try_strptime(v, slashed)} "
                f"else {_try_strptime(v, other)} end")

    def local(self, v: str) -> str:
        """SQL: the naive local time that trimmed text `v` reads as, or NULL."""
        read = self._strptime(v, self.formats())
        by_format = f"case when year({read}) >= {FIRST_YEAR} then {read} end"
        if not self.format:
            by_format = f"coalesce({by_format}, {self._strptime(v, TWO_DIGIT_YEAR_FORMATS)})"
        # The format first; then ISO 8601, which a day-first format does not read but which is
        # unambiguous (and which the loader would otherwise read as UTC).
        return (f"coalesce({by_format}, case when regexp_full_match({v}, '{NAIVE}') "
                f"then try_cast({v} as timestamp) end)")

    def instant(self, v: str) -> str:
        """SQL: trimmed text `v` as a naive UTC timestamp, or NULL when no rule reads it."""
        return (f"(case when regexp_full_match({v}, '{WITH_OFFSET}') "
                f"then timezone('UTC', try_cast({v} as timestamptz)) "
                f"else coalesce({self.from_local(self.local(v))}, "
                # HubSpot's API-style exports give epoch milliseconds (after the format, which
                # may be all digits too).
                f"case when regexp_full_match({v}, '\\d{{12,13}}') "
                f"then make_timestamp(cast({v} as bigint) * 1000) end) end)")

    def from_local(self, local: str) -> str:
        """SQL: a naive local time of the zone as a naive UTC timestamp, read as Python's zoneinfo
        reads it (fold=0), so it agrees with the month and day boundaries (months.day_start_utc):
        a time the clocks skip (02:30 on the night they go forward) is read with the offset
        before the change, an hour later; DuckDB's timezone() does the same. A time the clocks
        show twice (01:30 on the night they go back) is its first occurrence, the earlier
        instant; timezone() gives the second, so the earlier reading is taken when it is one:
        the time with the offset of a day before, if that instant shows the same time."""
        zone = quote(self.zone)
        late = f"timezone({zone}, _local)"
        before = f"({late} - interval 24 hour)"
        early = f"_local - (timezone({zone}, {before}) - timezone('UTC', {before}))"
        # Lambdas bind the local time and its earlier reading once (the export's text is parsed once).
        return (f"list_transform([{local}], lambda _local: list_transform([{early}], lambda _early: "
                f"case when _early < timezone('UTC', {late}) and timezone({zone}, timezone('UTC', _early)) = _local "
                f"then _early else timezone('UTC', {late}) end)[1])[1]")

    def utc(self, v: str) -> str:
        """SQL: trimmed text `v` as canonical text (ISO 8601, UTC, 'Z'). A value no rule reads is
        kept as it is: it is no ISO 8601 time either (those are all read above), so the loader
        quarantines its row as bad_timestamp rather than the importer losing it."""
        return as_text(self.instant(v), v)

    def local_day(self, instant: str) -> str:
        """SQL: the calendar date in the zone of a naive UTC timestamp."""
        return f"cast(timezone({quote(self.zone)}, timezone('UTC', {instant})) as date)"

    def date(self, v: str) -> str:
        """SQL: trimmed text `v` of a calendar-date column (web_sessions.date) as YYYY-MM-DD when
        the date part of the format reads it, else as it is (the loader reads ISO dates)."""
        part = date_part(self.format) if self.format else None
        if part is None:
            return v
        return f"coalesce(strftime(try_strptime({v}, {quote(part)}), '%Y-%m-%d'), {v})"

    def day_first(self, v: str) -> str:
        """SQL: whether `v` is a slashed date whose first part is no month, while the default
        formats would read it month-first (13/01/2026 is not read; 05/01/2026 is, as 1 May)."""
        if self.format:
            return "false"
        return f"coalesce(try_cast(regexp_extract({v}, '{_SLASHED}', 1) as int) > 12, false)"

    def day_first_advice(self, value: str) -> str:
        """How to read `value` day-first, in the words of the option that sets the format."""
        # ICU locale formats write a comma after the date ('28/01/2026, 16:30').
        year = "%y" if re.match(r"\d{1,2}/\d{1,2}/\d\d\b", value) else "%Y"  # a short date's '13/01/26'
        fmt = f"%d/%m/{year}" + ("," if re.match(r"\d{1,2}/\d{1,2}/\d+,", value) else "")
        if re.search(r"\d:\d\d:\d\d", value):
            fmt += " %H:%M:%S"
        elif re.search(r"\d:\d\d", value):
            fmt += " %I:%M %p" if re.search(r"[AaPp][Mm]$", value) else " %H:%M"
        return _advice(self.format_option, f"'{fmt}'")

    def date_only(self, v: str) -> str:
        """SQL: whether `v` is read as a calendar date without a time of day (its midnight)."""
        fmts = [f for f in self.formats() if not _TIME_OF_DAY.search(f)]
        if not fmts:
            return f"coalesce(regexp_full_match({v}, '{DATE}'), false)"
        # A CASE, not an OR: DuckDB evaluates both sides of an OR on every row, and a
        # try_strptime that fails is slow (3 s over a million ISO times, which no date-only
        # format reads).
        return (f"coalesce(case when regexp_full_match({v}, '{DATE}') then true "
                f"when regexp_full_match({v}, '{NAIVE}') or regexp_full_match({v}, '{WITH_OFFSET}') then false "
                f"else {self._strptime(v, fmts)} is not null end, false)")

    def dates_at_utc_midnight(self, where: str, dates: str, them: str) -> str:
        """The warning for the date-only values read in UTC days because no zone was given;
        `dates` counts them ('2 calendar dates', wording.counted), `them` is 'it' for one."""
        advice = _advice(self.zone_option, "<the agreement's zone>")
        return f"warning: {where}: {dates} read as midnight UTC; {advice} to place {them} in its days"

    def naive_times_in_utc(self, where: str, times: str) -> str:
        """The warning for the times without an offset read as UTC because no zone was given;
        `times` counts them ('1 time', wording.counted)."""
        advice = _advice(self.zone_option, "<the export's zone>")
        return (f"warning: {where}: {times} without an offset read as UTC; if the export "
                f"writes local times (a CRM's UI exports write the user's zone), {advice}")


def _try_strptime(v: str, formats: list[str]) -> str:
    return f"try_strptime({v}, {_sql_list(formats)})" if formats else "cast(null as timestamp)"


def _advice(option: str, value: str) -> str:
    """'pass --option value' for a command's option, 'set field: value …' for a mapping's."""
    if option.startswith("--"):
        return f"pass {option} {value}"
    return f"set {option}: {value} in the mapping"


def options_times(timezone: str | None, timestamp_format: str | None) -> Times:
    """The Times of the --timezone (None: not given, UTC) and --timestamp-format options, checked."""
    fmt = check_format(timestamp_format, "--timestamp-format") if timestamp_format else None
    # An empty --timezone "" (an unset shell variable) is refused, not read as UTC.
    return Times(check_timezone("UTC" if timezone is None else timezone), fmt, zone_given=timezone is not None)


def _sql_list(formats: list[str]) -> str:
    return "[" + ", ".join(quote(f) for f in formats) + "]"


def as_text(instant: str, raw: str) -> str:
    """SQL: a UTC instant as canonical text, else the raw value."""
    return f"coalesce(strftime({instant}, '{ISO_Z}'), {raw})"
