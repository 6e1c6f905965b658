"""SQL expressions that type a text value of a canonical column, and say why they cannot.

Each function takes a SQL expression holding text (without surrounding blanks, never '') and
returns a SQL expression; NULL means "not parseable". No session setting is relied upon, so
the result is the same whatever the connection's TimeZone.
"""

from __future__ import annotations

from pipelines.data.tables import MONEY, Column

# ISO 8601 shapes, matched whole: a date, a time of day, and (after a time) an offset.
# DuckDB's casts accept more: TIMESTAMP ignores trailing text ('10:00 PST', '10:00 garbage'
# and '10:00+02:00' all read as 10:00) and TIMESTAMPTZ takes zone names. Anything else is a
# bad timestamp, never a silently shifted one.
DATE = r"\d{4}-\d\d-\d\d"
_TIME = r"[T ]\d\d:\d\d(:\d\d(\.\d+)?)?"
# At most 14 hours from UTC (Kiribati's +14:00 is the farthest any zone goes), minutes 00-59:
# DuckDB takes any two digits, and +99:00 moved the instant by four days. 'Z' in capitals
# only: DuckDB's cast refuses 'z'.
_OFFSET = r"(Z|UTC|[+-]((0\d|1[0-3])(:?[0-5]\d)?|14(:?00)?))"
NAIVE = rf"^{DATE}({_TIME})?$"
WITH_OFFSET = rf"^{DATE}{_TIME}\s*{_OFFSET}$"


def _in_years(value: str) -> str:
    """`value` when its year is one that ISO 8601 text writes (0001-9999), else NULL."""
    # DuckDB reads '0000-01-01' as 1 BC, and an offset or 24:00 carries 9999-12-31 into the
    # year 10000. (DuckDB computes `value` once: a common subexpression.)
    return f"(case when year({value}) between 1 and 9999 then {value} end)"


def timestamp_utc(text: str) -> str:
    """ISO 8601 text -> naive UTC timestamp; text without an offset is already UTC."""
    return _in_years(f"case when regexp_full_match({text}, '{NAIVE}') then try_cast({text} as timestamp) "
                     f"when regexp_full_match({text}, '{WITH_OFFSET}') "
                     f"then timezone('UTC', try_cast({text} as timestamptz)) end")


def date(text: str) -> str:
    """YYYY-MM-DD text -> date. DuckDB's cast alone also takes 'infinity', 'epoch',
    '2026/01/01', '2026-1-1', '2026-01-01 10:00:00' (dropping the time) and '2026-01-01 (BC)'."""
    return _in_years(f"case when regexp_full_match({text}, '^{DATE}$') then try_cast({text} as date) end")


# Decimal text, an exponent allowed ('1.2e4'); DuckDB's cast alone also reads '1_000' as 1000.
DECIMAL = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


def money(text: str) -> str:
    """Decimal text -> MONEY, rounded to its 6 places; NULL beyond its range."""
    return f"(case when regexp_full_match({text}, '{DECIMAL}') then try_cast({text} as {MONEY}) end)"


# Whole digits, or with a zero fraction as spreadsheets write counts ('12.0'); no exponent,
# no '_' (DuckDB's cast reads '1_0' as 10). try_cast('3.5' as bigint) rounds to 4, so the
# digits before the point are cast, not the value.
INTEGER = r"^[+-]?\d+(\.0*)?$"


def integer(text: str) -> str:
    # Read straight from the digits: through a double, 9007199254740993 lost its last digit
    # and 1e19 failed the cast to bigint, which stopped the load. try_cast gives NULL (a bad
    # number) past the bigint range.
    return (f"(case when regexp_full_match({text}, '{INTEGER}') "
            f"then try_cast(split_part({text}, '.', 1) as bigint) end)")


def negative(text: str) -> str:
    """SQL: whether the number `text` is below zero: a minus, then a non-zero digit before any
    exponent. Judged on the text, before rounding: -0.0000004 is 0.000000 as MONEY, and
    still a negative amount."""
    return f"regexp_matches({text}, '^-0*\\.?0*[1-9]')"


PARSERS = {"timestamp": timestamp_utc, "date": date, MONEY: money, "bigint": integer}
BAD_VALUE = {"timestamp": "bad_timestamp", "date": "bad_date", MONEY: "bad_number",
             "bigint": "bad_number"}


def typed(column: Column, text: str, stage_lookup: str | None = None) -> str:
    """The warehouse value of `column` from its text; NULL when it cannot be typed."""
    if column.is_stage:
        return stage_lookup or text
    if column.allowed:
        return f"lower({text})"
    parser = PARSERS.get(column.type)
    return parser(text) if parser else text
