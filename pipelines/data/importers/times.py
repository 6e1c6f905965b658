"""How the importers read an export's times: naive local times of a zone, by a strptime format or
ISO 8601, into the canonical UTC text. SQL builders, so DuckDB runs them over whole exports.

The rule that keeps times honest: a value is either converted from the import's zone to UTC,
or kept as it is only when it is no time the loader reads either (so the loader quarantines
its row as bad_timestamp). A naive ISO value the format did not match used to be kept, and the
loader read it as UTC: shifted by the zone's offset without a word.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb

from pipelines.data.parsing import NAIVE, WITH_OFFSET
from pipelines.data.sources import quote
from pipelines.errors import InputError, Problem

# What the importers write.
ISO_Z = "%Y-%m-%dT%H:%M:%SZ"
# Without a format, exports' local times are read in these shapes: ISO first, then US-style
# (month first) for report exports.
DEFAULT_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S",
                   "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M", "%Y-%m-%d",
                   "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y"]


def check_timezone(tz: str, field: str = "--timezone", file: str | None = None) -> str:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(Problem(f"unknown time zone '{tz}'; expected an IANA name such as "
                                 "UTC or America/Mexico_City", file=file, field=field)) from None
    return tz


def check_format(fmt: str, field: str, file: str | None = None) -> str:
    try:
        with duckdb.connect() as con:
            con.execute("select try_strptime('2026-01-05 10:00:00', ?)", [fmt]).fetchall()
    except duckdb.Error:
        raise InputError(Problem(f"{fmt!r} is not a strptime format: expected one such as "
                                 "'%d/%m/%Y %H:%M' (docs/data.md)", file=file, field=field)) from None
    return fmt


@dataclass(frozen=True)
class Times:
    """The zone of an export's naive times and the strptime format they are written in
    (None: ISO 8601 and the US formats of DEFAULT_FORMATS)."""

    zone: str = "UTC"
    format: str | None = None

    def formats(self) -> list[str]:
        return [self.format] if self.format else DEFAULT_FORMATS

    def local(self, v: str) -> str:
        """SQL: the naive local time that trimmed text `v` reads as, or NULL."""
        fmts = "[" + ", ".join(quote(f) for f in self.formats()) + "]"
        # The format first; then ISO 8601, which a day-first format does not read but which is
        # unambiguous (and which the loader would otherwise read as UTC).
        return (f"coalesce(try_strptime({v}, {fmts}), case when regexp_full_match({v}, '{NAIVE}') "
                f"then try_cast({v} as timestamp) end)")

    def instant(self, v: str) -> str:
        """SQL: trimmed text `v` as a naive UTC timestamp, or NULL when no rule reads it."""
        return (f"(case when regexp_full_match({v}, '{WITH_OFFSET}') "
                f"then timezone('UTC', try_cast({v} as timestamptz)) "
                # HubSpot's API-style exports give epoch milliseconds.
                f"when regexp_full_match({v}, '\\d{{12,13}}') then make_timestamp(cast({v} as bigint) * 1000) "
                f"else timezone('UTC', timezone({quote(self.zone)}, {self.local(v)})) end)")

    def utc(self, v: str) -> str:
        """SQL: trimmed text `v` as canonical text (ISO 8601, UTC, 'Z'). A value no rule reads is
        kept as it is: it is no ISO 8601 time either (those are all read above), so the loader
        quarantines its row as bad_timestamp rather than the importer losing it."""
        return as_text(self.instant(v), v)


def as_text(instant: str, raw: str) -> str:
    """SQL: a UTC instant as canonical text, else the raw value."""
    return f"coalesce(strftime({instant}, '{ISO_Z}'), {raw})"
