"""Why DuckDB could not read a CSV: the first line that breaks plain CSV.

DuckDB's reader says "Error when sniffing file" for a row with one value too many, an
unterminated quote or a UTF-16 file, and names no line. The loader reads with fixed settings
(UTF-8, commas, double quotes, a header row), so a plain reader over the same file can point
at the line. first_bad_line is only called once a read has failed: it reads the file again,
line by line. A blank line before the header is checked first, as DuckDB reads such a file
without failing (blank_header: up to the first line with text).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from pipelines.errors import InputError, Problem

# DuckDB's read_csv refuses a longer line (its max_line_size default, which the loader also
# passes explicitly), newline included: a line past it is named with its length.
MAX_LINE_BYTES = 2_000_000
# Python's reader refuses a field over 128 KiB ("field larger than field limit"), which was
# then reported as an unterminated quote; DuckDB reads fields up to the line limit.
csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE_BYTES))
# How read_csv reads every CSV, a data directory's or an export: RFC 4180 quoting, given rather
# than guessed. Left to DuckDB's sniffer, one unterminated quote made it read the whole file
# without quoting: quote characters stayed in the values, and a quoted header's '"Id"' was no Id.
# Given, an unterminated quote fails the read, and first_bad_line names its line.
# No comment character either: one line starting with '#' ("# exported by …") made the sniffer
# take '#' for one, and then every row starting with '#' was skipped and every unquoted value cut
# at its '#' ('web # form' read 'web '), silently. Such a line is now a row of one value, named.
READ_OPTIONS = f"quote = '\"', escape = '\"', comment = '', max_line_size = {MAX_LINE_BYTES}"


# The first bytes of a spreadsheet's own formats: .xlsx is a ZIP archive, .xls an OLE2 file.
_WORKBOOKS = {b"PK\x03\x04": "an Excel workbook (.xlsx, a ZIP archive)",
              b"\xd0\xcf\x11\xe0": "an Excel 97-2003 workbook (.xls)"}


def first_bad_line(path: Path, delimiter: str | None = ",",
                   encoding_setting: Callable[[str], str] | None = None,
                   blank_lines: list[int] | None = None) -> tuple[int, str] | None:
    """(line number, what is wrong) for the first line that breaks plain CSV, or None.

    Without a one-character `delimiter` (DuckDB detected it), rows are not counted. An import
    reads other encodings than UTF-8 when told: `encoding_setting` says how ('--encoding cp1252').
    A line of only blanks (outside quotes, in a file of more than one column) is no bad line:
    the loader and the importers skip it as DuckDB skips an empty line
    (sources.skippable_blank_lines); its number is added to `blank_lines` when given.
    """
    def or_tell(name: str, used_for: str = "") -> str:
        if encoding_setting is None:
            return ""
        return f", or give {'its encoding: ' if used_for else ''}{encoding_setting(name)}{used_for}"

    with path.open("rb") as handle:
        start = handle.read(4)
        if start in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):  # before UTF-16's, which begins the same
            return 1, f"the file is UTF-32 text: expected UTF-8 (save or export it as UTF-8 CSV{or_tell('utf-32')})"
        if start[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return 1, f"the file is UTF-16 text: expected UTF-8 (save or export it as UTF-8 CSV{or_tell('utf-16')})"
        if len(start) == 4 and b"\x00" not in start[::2] and start[1::2] == b"\x00\x00":
            # A header in UTF-16 without a byte-order mark: each ASCII character then a zero byte.
            # DuckDB's error blamed a quote.
            return 1, ("the file is UTF-16 text (without a byte-order mark): expected UTF-8 (save or export it as "
                       f"UTF-8 CSV{or_tell('utf-16-le')})")
        if workbook := _WORKBOOKS.get(start):
            # A workbook renamed .csv, or picked by mistake: its bytes read as "not UTF-8".
            return 1, f"the file is {workbook}, not CSV: expected UTF-8 CSV (in Excel, Save As 'CSV UTF-8')"
        handle.seek(0)
        for number, raw in enumerate(handle, start=1):
            if number == 1 and re.fullmatch(rb"sep=.?", raw.removeprefix(_BOM).strip()):
                # Excel's hint of the delimiter: read as the header, every row had a value too many.
                return 1, ("the line is Excel's 'sep=' hint, not the header: expected the header row (the "
                           "column names) on the first line; delete this line")
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return number, ("not UTF-8 text (save or export the file as UTF-8 CSV"
                                + or_tell("cp1252", " for Excel's 'CSV' saved on Windows") + ")")
            if len(raw) > MAX_LINE_BYTES:
                return number, (f"the line is {len(raw):,} bytes long: expected at most {MAX_LINE_BYTES:,} "
                                "(the CSV reader's limit; no CRM value is that long, is the export whole?)")
    if found := blank_header(path) or _mixed_line_break(path):
        return found
    single = one_character(delimiter) if delimiter is not None else None
    counted = single is not None
    line = 0  # the last line read whole
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            last = [""]  # the last line the reader took: a row's own text, when it is one line
            reader = csv.reader(_keeping_last(handle, last), delimiter=single or ",", strict=True)
            header = next(reader, None)
            if header is None or not any(field.strip() for field in header):
                return 1, "the file is empty: expected a header row with the table's columns"
            line = reader.line_num
            for row in reader:
                line = reader.line_num
                if counted and row and len(row) != len(header):
                    if only_blanks(row, last[0], len(header)):
                        if blank_lines is not None:
                            blank_lines.append(line)
                        continue
                    return line, (f"{len(row)} value{'' if len(row) == 1 else 's'}, expected {len(header)} (one per column of the header)"
                                  + _footer_hint(row))
    except csv.Error as exc:
        return line + 1, f"not valid CSV: {exc} (an unterminated quote?)"
    return None


def blank_header(path: Path) -> tuple[int, str] | None:
    """(1, what is wrong) when line 1 is blank and a later line is not, else None.

    DuckDB skips the blank line, takes the next line's names for the header, and reads that
    line again as a data row: a contact 'contact_id' (quarantined as a bad_timestamp, every row
    number one off), or an import stopped at the header's 'IsWon' as no yes/no value. Checked
    before a CSV is read, as the read itself succeeds; it reads up to the first line with text.
    """
    with path.open("rb") as handle:
        if handle.readline().removeprefix(_BOM).strip():
            return None
        if any(line.strip() for line in handle):
            return 1, ("the line is blank: expected the header row (the column names) on the first line; "
                       "delete the blank lines before it")
    return None  # a file of blank lines is empty, and read as such


def refuse_blank_header(path: Path, named: Path | None = None) -> None:
    """InputError naming line 1 (of `named`, the file `path` is a copy of) when it is blank
    before the header (see blank_header)."""
    if found := blank_header(path):
        raise InputError(Problem(found[1], file=str(named or path), line=found[0]))


_BOM = b"\xef\xbb\xbf"
_QUOTE_OR_BREAK = re.compile(rb'"|\r\n|\r|\n')
_BREAKS = {b"\r\n": "CRLF (\\r\\n, as on Windows)", b"\n": "LF (\\n)", b"\r": "a lone CR (\\r)"}


def _mixed_line_break(path: Path) -> tuple[int, str] | None:
    """(line, what is wrong) at the first line break, outside quotes, of another kind than the
    first one's, or None. DuckDB reads one kind per file and fails to sniff a file with two
    (rows appended by another tool), where Python's reader, taking any, found nothing wrong."""
    first: tuple[int, bytes] | None = None
    line, quoted = 1, False
    with path.open("rb") as handle:
        for raw in handle:  # a chunk ends after b"\n": a CRLF is never split
            for mark in _QUOTE_OR_BREAK.findall(raw):
                if mark == b'"':
                    quoted = not quoted
                    continue
                if not quoted:  # a break inside quotes is part of a value, whatever its kind
                    if first is None:
                        first = (line, mark)
                    elif mark != first[1]:
                        return line, (f"the line ends with {_BREAKS[mark]}, but line {first[0]} ends with "
                                      f"{_BREAKS[first[1]]}: expected the same line break on every line "
                                      "(save the file again, or convert it with dos2unix or unix2dos)")
                line += 1
    return None


# The lines a CRM's report export appends after its rows (Salesforce: "Generated By: …",
# "Copyright (c) 2000-2026 salesforce.com, inc. …", "Confidential Information - Do Not
# Distribute"): one value each, so the row count names the first of them.
_FOOTER = re.compile(r"(generated by\b|copyright\b|\(c\)|confidential information\b)", re.IGNORECASE)


def _keeping_last(lines: Iterable[str], last: list[str]) -> Iterator[str]:
    """`lines`, each kept in last[0] as a csv.reader takes it: a row's own text, when the row is one line."""
    for text in lines:
        last[0] = text
        yield text


def only_blanks(row: list[str], line: str, columns: int) -> bool:
    """Whether `row`, read from the text `line`, is a line of only blanks (spaces, tabs: an
    editor's last line) in a file of `columns` columns: no row, as an empty line is none.
    Not a quoted value of blanks (its line holds the quotes), nor a line with a delimiter (a
    row of blank values), nor a value of a one-column file (DuckDB reads it as a row)."""
    return len(row) == 1 < columns and not line.strip()


def _footer_hint(row: list[str]) -> str:
    if len(row) == 1 and _FOOTER.match(row[0].strip()):
        return (f"; {row[0].strip()[:40]!r} looks like a report's footer: export the report without it, "
                "or delete the lines from here to the end of the file")
    return ""


def one_character(delimiter: str) -> str | None:
    """The delimiter as Python's csv module takes it, or None: DuckDB also reads the escape
    `\\t` (a tab) and delimiters of several characters (`||`), which csv.reader refuses."""
    delimiter = "\t" if delimiter == "\\t" else delimiter
    return delimiter if len(delimiter) == 1 else None


def header(path: Path, delimiter: str = ",") -> list[str]:
    """The column names as the file's first line has them (DuckDB renames a repeated name
    `name_1`, which would hide the repeat)."""
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        if (single := one_character(delimiter)) is None:
            return handle.readline().rstrip("\r\n").split(delimiter)
        return next(csv.reader(handle, delimiter=single), [])


def likely_delimiter(path: Path) -> str:
    """Of the usual delimiters, the one that splits the header into the most columns (',' when
    none splits it): the reader's guess when no delimiter was given."""
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        first = handle.readline()
    return max([",", ";", "\t", "|"], key=lambda d: len(next(csv.reader([first], delimiter=d), [])))


def line_of_row(path: Path, delimiter: str, index: int) -> int | None:
    """The line on which data row `index` (0-based, after the header) starts: a quoted value
    may hold line breaks, so rows and lines differ."""
    if (single := one_character(delimiter)) is None:
        return None  # no line rather than a guess: the message still names file and column
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        last = [""]
        reader = csv.reader(_keeping_last(handle, last), delimiter=single)
        columns = len(next(reader, []))
        start, number = reader.line_num + 1, 0
        for row in reader:
            # Empty lines and lines of only blanks are no rows (the reader skips them, see first_bad_line).
            if row and not only_blanks(row, last[0], columns):
                if number == index:
                    return start
                number += 1
            start = reader.line_num + 1
    return None
