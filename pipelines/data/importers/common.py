"""What every importer needs: read an export as text, find its columns by any of their names,
turn local times into UTC, write the canonical CSV files (all or none, `output.Output`).
All in DuckDB, so large exports stream.
"""

from __future__ import annotations

import contextlib
import copy
import unicodedata
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import duckdb

from pipelines.data.csv_check import (READ_OPTIONS, first_bad_line, header, likely_delimiter, line_of_row,
                                      refuse_blank_header)
from pipelines.data.importers.encoding import UTF8, Encoding, utf8_copy
from pipelines.data.importers.output import Input, Output, connect, same_file
from pipelines.data.importers.report_footer import without_footer
from pipelines.data.importers.times import Times
from pipelines.data.parsing import WITH_OFFSET
from pipelines.data.row_sql import without_blanks
from pipelines.data.sources import (SKIPPING_BLANK_LINES, drop_skipped, file_sql, ident, quote,
                                    skippable_blank_lines, skipped_only_blank_lines)
from pipelines.data.tables import TABLES
from pipelines.errors import InputError, Problem
from pipelines.warehouse.connection import interrupted_by_ctrl_c
from pipelines.wording import counted

# How exports write a yes/no field (Salesforce true/false, reports 1/0, HubSpot Yes/No).
TRUE, FALSE = ("true", "yes", "1"), ("false", "no", "0")
# A number as a spreadsheet writes it in scientific notation ('1.23457E+11', '1,23E+11').
_SCIENTIFIC = r"\d[.,]?\d*[eE]\+\d+"

T = TypeVar("T")

# Above this size an import shows a spinner: DuckDB reads ~100 MB/s on one core.
LARGE_FILE_BYTES = 50 * 1024 * 1024


def _text(column: str) -> str:
    """SQL: a written column as the CSV holds it (a column the import left empty is NULL-typed)."""
    return f"cast({ident(column)} as varchar)"


def _rounded(column: str) -> str:
    """SQL: whether a written id column's value is in scientific notation."""
    return f"regexp_full_match({_text(column)}, '{_SCIENTIFIC}')"


def its(n: int) -> str:
    """The possessive of `n` things counted (counted): 'its' for one, 'their' for more ('1 of 7
    tasks left out: their WhoId …' read as a slip)."""
    return "its" if n == 1 else "their"


def name_key(name: str) -> str:
    """A column name as names are matched: without surrounding blanks, ignoring case and
    Unicode form (a tool on macOS may write 'Código' with a combining accent: it read the
    same as the mapping's 'Código' in the error that said it was not found)."""
    return unicodedata.normalize("NFC", name).strip().lower()


def read_as(reads: Collection[str], reads_matching: Callable[[str], bool] | None, delimiter: str | None,
            labels: dict[str, tuple[str, ...]] | None, report_footer: bool, encoding: Encoding) -> tuple:
    """How an export is read: a file already read the same way is not read again (Job.export)."""
    return (frozenset(reads), reads_matching, delimiter, labels, report_footer, encoding.codec)


class Export:
    """One export file, read as text into a DuckDB table; columns found case-insensitively.

    Only the columns the import reads are read into the table: `reads`, the names it looks
    up (with their labels), and those `reads_matching` takes (HubSpot's lifecycle dates). A
    CRM's export holds hundreds of columns the import never reads, which took most of the
    time and memory of reading it.

    An export in another `encoding` than UTF-8 is read through a UTF-8 copy written into the
    folder `copy_into` (encoding.py). `path` is the export, which every message and note
    names; `utf8` is the file read, the export or its UTF-8 copy, whose lines are the export's."""

    def __init__(self, con: duckdb.DuckDBPyConnection, given: Input, name: str,
                 times: Times, reads: Collection[str], reads_matching: Callable[[str], bool] | None = None,
                 delimiter: str | None = None, labels: dict[str, tuple[str, ...]] | None = None,
                 report_footer: bool = False, encoding: Encoding = UTF8, copy_into: Path | None = None) -> None:
        self.con, self.path, self.name, self.times = con, Path(given.path), name, times
        self.read_as = read_as(reads, reads_matching, delimiter, labels, report_footer, encoding)
        self.encoding = encoding
        # A field's other names (a CRM's UI labels): `find("Id")` also finds "Lead ID".
        self.labels = labels or {}
        self._reads = {name_key(n) for n in self._with_labels(tuple(reads))}
        self._reads_matching = reads_matching or (lambda column: False)
        self.notes: list[str] = []  # for the user, in the command's output
        if not self.path.is_file():
            found = ("is a folder" if self.path.is_dir() else "file not found" if not self.path.exists()
                     # /dev/null, a pipe or `<(…)`: the importer reads the file more than once
                     else "is no regular file (a device or a pipe)")
            raise InputError(given.problem(f"{found}; expected a CSV export"))
        # DuckDB and the checks below read UTF-8 only: from here on every read is of `utf8`, and
        # every message names `path` (a copy's name in .funnelpact-import-… would mean nothing).
        self.utf8 = self.path
        if not encoding.as_is:
            assert copy_into is not None, "an export in another encoding than UTF-8 needs a folder for its copy"
            self.utf8 = copy_into / f"{name}-{self.path.name}"
            self.notes += utf8_copy(self.path, encoding, self.utf8)
        # The delimiter is left to DuckDB to detect, but the checks read with the likely one: a
        # quote opened after a ';' is inside a field to a ',' reader, and was not found.
        self.delimiter = delimiter or likely_delimiter(self.utf8)
        refuse_blank_header(self.utf8, named=self.path)
        names = header(self.utf8, self.delimiter)
        rows = (without_footer(self.utf8, self.delimiter, named=self.path) if report_footer
                else contextlib.nullcontext((self.utf8, None)))
        # As the file names them: DuckDB renames a repeated name `name_1`, hiding the repeat.
        self._named = Counter(name_key(n) for n in names)
        self.columns: dict[str, str] = {}  # name, ignoring case -> the column as the table holds it
        self._names: dict[str, str] = {}  # SQL reference -> the column's name in the export
        self._checked: set[str] = set()
        # SQL: the rows the checks below read (see keeping).
        self.kept = "true"
        self._blank_lines = 0  # skipped, as the loader skips them (_columns)
        with rows as (source, left_out):
            # Every column of the export, as DuckDB names them (a repeated name `name_1`).
            self.names = self._read(source, delimiter, len(names))
            self._leave_out_empty_rows(source, delimiter)
        if left_out:
            self.notes.append(left_out)

    def with_times(self, times: Times) -> Export:
        """This export, its table and columns, read with other `times` (a mapping's other table
        from the same file); its notes on the file (blank rows, a footer) are not said again."""
        other = copy.copy(self)
        other.times, other.notes, other._checked = times, [], set()
        return other

    def keeping(self, condition: str) -> Export:
        """This export, its checks (refuse, check_times) and the counts of its notes narrowed to
        the rows where SQL `condition` holds: a mapping's keep_rows and skip_rows. A to-do a
        filter left out of activities is not imported, yet its day-first date refused the file."""
        other = copy.copy(self)  # its notes are the export's: said once, with the import's
        other.kept = f"({condition})"
        return other

    def _leave_out_empty_rows(self, source: Path, delimiter: str | None) -> None:
        """Leave out the rows whose every value is blank (`;;;;` lines, which a spreadsheet
        saves after the data for rows it once formatted): no record, yet each was a contact or
        lead without an id, quarantined or counted as a duplicate against the quarantine rate.
        A row with any value stays, for the loader to judge, also when the value is in a
        column the import does not read: the file is read again for the rows blank in those
        it reads, if there are any."""
        read = [text(ident(c)) for c in self.columns.values()]
        blank = f"coalesce({', '.join(read)}) is null" if read else "true"
        if not self.con.execute(f"select count(*) from {self.name} where {blank}").fetchone()[0]:
            return
        if len(self.columns) < len(self.names):
            every = ", ".join(text(ident(c)) for c in self.names)
            # In the file's order, as the table's rows: their row numbers match.
            self.con.execute(f"create temp table _fp_blank as select coalesce({every}) is null as blank "
                             f"from {self._reader(source, delimiter)}")
            drop_skipped(self.con)  # the lines of blanks _read checked, skipped again
            blank = "rowid in (select rowid from _fp_blank where blank)"
        count = self.con.execute(f"select count(*) from {self.name} where {blank}").fetchone()[0]
        if count:
            self.con.execute(f"delete from {self.name} where {blank}")
            self.notes.append(f"note: {self.path.name}: left out {counted(count, 'row')} with every value blank "
                              "(as a spreadsheet saves after the data)")
        self.con.execute("drop table if exists _fp_blank")

    def _reader(self, source: Path, delimiter: str | None) -> str:
        """SQL: `source`'s rows (the export, or its rows without a report footer), all as text:
        a bad value must reach the loader's quarantine, not stop the import. Its lines of only
        blanks are skipped when there are some (_columns), with the delimiter they were found by."""
        if self._blank_lines:
            delimiter = self.delimiter
        delim = f", delim = {quote(delimiter)}" if delimiter else ""
        skip = SKIPPING_BLANK_LINES if self._blank_lines else ""
        return (f"read_csv({file_sql(source)}, all_varchar = true, header = true, skip = 0{delim}, "
                f"{READ_OPTIONS}{skip})")

    def _columns(self, source: Path, delimiter: str | None, expected: int) -> list[str]:
        """Every column of `source` as DuckDB names them."""
        cols = self._or_without_blank_lines(source, lambda: self._describe(source, delimiter))
        if _misread(cols, expected) and not self._blank_lines and self._skip_blank_lines(source):
            cols = self._describe(source, delimiter)
        self._refuse_misread(source, cols, expected)
        return cols

    def _or_without_blank_lines(self, source: Path, read: Callable[[], T]) -> T:
        """`read()` of `source`; read again without the file's lines of only blanks (an editor's
        last line) when those are what DuckDB failed on, as the loader reads a data directory
        (sources.skippable_blank_lines). Such a line made the sniffer fail, or read each line as
        one value (_columns), or failed the read past the lines the sniffer samples."""
        try:
            return read()
        except duckdb.OutOfMemoryException:
            raise
        except duckdb.Error:
            if self._blank_lines or not self._skip_blank_lines(source):
                raise
            return read()

    def _describe(self, source: Path, delimiter: str | None) -> list[str]:
        return [r[0] for r in self.con.execute(f"describe select * from {self._reader(source, delimiter)}").fetchall()]

    def _skip_blank_lines(self, source: Path) -> bool:
        """Whether `source` is read without its lines of only blanks, as those are all that is wrong with it."""
        self._blank_lines = skippable_blank_lines(source, self.delimiter, self.encoding.setting)
        return self._blank_lines > 0

    def _read(self, source: Path, delimiter: str | None, expected: int) -> list[str]:
        """Read the columns the import reads of `source` into the table; all the export's
        columns as DuckDB names them. A failed read names the export's line that broke it."""
        try:
            cols = self._columns(source, delimiter, expected)
            picked = []
            for c in cols:
                if not self._is_read(c):
                    continue
                # A column named rowid (a database dump's) hid DuckDB's row numbers, by which a
                # refused value's line is found and HubSpot keeps each row's events apart: the
                # table holds it under another name.
                held = f"_fp_{c}" if c.lower() == "rowid" else c
                self.columns[name_key(c)] = held
                self._names[ident(held)] = c
                picked.append(f"{ident(c)} as {ident(held)}")
            # Each row of the file is a row of the table, also when the import reads none of its columns.
            select = ", ".join(picked) or "null as _fp_none"
            self._or_without_blank_lines(source, lambda: self.con.execute(
                f"create or replace temp table {self.name} as select {select} from {self._reader(source, delimiter)}"))
            if self._blank_lines and not skipped_only_blank_lines(self.con, self._blank_lines):
                raise InputError(Problem("cannot read the file: DuckDB's reader refused a line besides its lines "
                                         "of only blanks; expected one value per column on every line",
                                         file=str(self.path)))
        except duckdb.OutOfMemoryException:
            raise  # the memory limit's doing, not the export's (see pipelines.cli)
        except duckdb.Error as exc:
            if found := first_bad_line(source, self.delimiter, self.encoding.setting):
                raise InputError(Problem(found[1], file=str(self.path), line=found[0])) from None
            first = str(exc).strip().splitlines()[0]
            kind = "a UTF-8 CSV export" if self.encoding.as_is else f"a CSV export in {self.encoding.name}"
            raise InputError(Problem(f"cannot read the file; expected {kind} with a "
                                     f"header row: {first}", file=str(self.path))) from None
        return cols

    def _refuse_misread(self, source: Path, cols: list[str], expected: int) -> None:
        """One row with a value too many or too few makes DuckDB's sniffer give up on the
        delimiter and read each line as one column (and an empty file is one column, 'column0'):
        the error was then a missing id column whose name the header plainly has. Name the row."""
        if not _misread(cols, expected):
            return
        found = len(cols)
        if bad := first_bad_line(source, self.delimiter, self.encoding.setting):
            raise InputError(Problem(bad[1], file=str(self.path), line=bad[0]))
        raise InputError(Problem(
            f"the header has {expected} columns separated by {self.delimiter!r}, but the file was "
            f"read as {found}; expected every line to hold one value per column", file=str(self.path)))

    def find(self, *names: str) -> str | None:
        """SQL reference to the first of `names` (each followed by its labels) the export has,
        or None. Each must be one of the names the export is read for (`reads`)."""
        for n in self._with_labels(names):
            if not self._is_read(n):
                raise ValueError(f"{n!r} is not among the columns {self.name} is read for: add it to its reads")
            if name_key(n) in self.columns:
                return self.read(self.columns[name_key(n)])
        return None

    def _is_read(self, name: str) -> bool:
        return name_key(name) in self._reads or self._reads_matching(name)

    def _with_labels(self, names: tuple[str, ...]) -> list[str]:
        return [m for n in names for m in (n, *self.labels.get(n, ()))]

    def read(self, column: str) -> str:
        """SQL reference to a column the import reads (one of `columns`' values). A name the
        export has twice (ignoring case) is refused, as the loader refuses it: one copy would
        be read and the other dropped without a word (DuckDB renames the second `name_1`)."""
        ref, named = ident(column), self._names[ident(column)]
        if (count := self._named[name_key(named)]) > 1:
            raise InputError(Problem(f"column '{named}' is named {count} times (names match ignoring case): "
                                     "expected it once", file=str(self.path), field=named))
        return ref

    def column_name(self, ref: str) -> str:
        """The name the export gives the column of SQL reference `ref` (from find or need)."""
        return self._names[ref]

    def need(self, what: str, *names: str, why: str = "") -> str:
        """SQL reference to the first of `names` the export has; missing, exit 2 naming them all
        (and `why` the import needs the column, where that is not plain)."""
        found = self.find(*names)
        if found is None:
            expected = " or ".join(f"'{n}'" for n in self._with_labels(names))
            raise InputError(Problem(f"missing the {what} column{why}; expected {expected}",
                                     file=str(self.path), field=names[0]))
        return found

    def refuse(self, ref: str, where: str, message: Callable[[str], str]) -> None:
        """Exit 2 naming file, line and column at the first row where SQL `where` holds;
        `message` says what is wrong with that row's value of column `ref`."""
        row = self.con.execute(f"select rowid, {ref} from {self.name} where ({where}) and {self.kept} "
                               f"order by rowid limit 1").fetchone()
        if row is not None:
            raise InputError(Problem(message(row[1]), file=str(self.path), field=self._names[ref],
                                     line=line_of_row(self.utf8, self.delimiter, row[0])))

    def deal_status(self, won: str | None, closed: str | None, by_stage: str, not_closed: str,
                    stage: str, flags: str) -> str:
        """SQL: 'won', 'lost' or 'open'. The won flag decides won, and with the closed flag a
        closed deal not won is lost, else `not_closed`; the stage name (`by_stage`, from the
        stage column `stage`) decides what the flags do not. The won flag alone still decides
        won: a won deal in a stage not named closed-won (a custom or second pipeline's stage)
        was open, without its close date and revenue. Without either flag (`flags` names them)
        such a deal can only be open: the stages read so are said in a note."""
        if not won and not closed:
            self._note_open_by_stage(by_stage, stage, flags)
        if won and closed:
            return (f"case when {self.flag(won)} then 'won' when {self.flag(closed)} then 'lost' "
                    f"else {not_closed} end")
        if won:
            return f"case when {self.flag(won)} then 'won' when ({by_stage}) = 'lost' then 'lost' else 'open' end"
        return by_stage

    def _note_open_by_stage(self, by_stage: str, stage: str, flags: str) -> None:
        """A default deal view exports the stage but not the won flag: a won stage of a custom
        pipeline ('Contract Signed') read as open lost its revenue and customer without a word."""
        rows = self.con.execute(f"select {stage}, count(*) from {self.name} where ({by_stage}) = 'open' "
                                f"and {self.kept} group by all order by count(*) desc, 1 nulls last").fetchall()
        if rows:
            shown = ", ".join(f"{value!r} {count:,}" if value is not None else f"no stage {count:,}"
                              for value, count in rows[:5]) + (", …" if len(rows) > 5 else "")
            count = sum(c for _, c in rows)
            self.notes.append(
                f"note: {self.path.name}: {counted(count, 'deal')} written open, as {its(count)} stage is "
                f"no closed-won or closed-lost one ({shown}); without {flags} a won stage of another "
                f"pipeline reads as open: export {flags} to read it")

    def deal_amount(self, ref: str, status: str) -> str:
        """SQL: the amount as exported, and 0 for an open or lost deal exported without one.
        CRMs leave the amount of early deals empty, and SPEC §2 requires one: each such deal
        was quarantined and counted against the quarantine rate, though only won deals'
        amounts count (toward revenue). A won deal without one stays empty, and is quarantined:
        its revenue is unknown."""
        amount = text(ref)
        filled_in = f"{amount} is null and ({status}) <> 'won'"
        count = self.con.execute(f"select count(*) filter (where {filled_in}) from {self.name} "
                                 f"where {self.kept}").fetchone()[0]
        if count:
            self.notes.append(f"note: {self.path.name}: {counted(count, 'open or lost deal')} without an amount "
                              f"written with amount 0 (only won deals' amounts count, toward revenue)")
        return f"case when {filled_in} then '0' else {amount} end"

    def flag(self, ref: str) -> str:
        """SQL: a yes/no column as a boolean; empty is false. Any other value stops the import,
        naming it: HubSpot's 'Yes' read as not 'true' made a won deal open and lost its close."""
        value = f"lower({text(ref)})"
        allowed = ", ".join(quote(v) for v in (*TRUE, *FALSE))
        self.refuse(ref, f"{value} not in ({allowed})", lambda found: (
            f"{found!r} is not a yes/no value; expected true/false, yes/no or 1/0 (any case)"))
        return f"coalesce({value} in ({', '.join(quote(v) for v in TRUE)}), false)"

    def time(self, *refs: str, read: str = "true") -> str:
        """SQL: the first filled of these columns as a canonical UTC time (see times.Times), on
        the rows where SQL `read` holds (see check_times)."""
        return self.times.utc(self._first_time(refs, read))

    def instant(self, *refs: str, read: str = "true") -> str:
        """SQL: the first filled of these columns as a naive UTC timestamp, NULL when unreadable,
        on the rows where SQL `read` holds (see check_times)."""
        return self.times.instant(self._first_time(refs, read))

    def _first_time(self, refs: tuple[str, ...], read: str) -> str:
        for i, ref in enumerate(refs):
            # A column's value is read only where the columns before it are empty: a task's
            # CreatedDate, beside its CompletedDateTime, is no time read as UTC.
            self.check_times(ref, " and ".join([f"({read})", *(f"{text(r)} is null" for r in refs[:i])]))
        return _first_filled(refs)

    def check_times(self, ref: str, read: str = "true") -> None:
        """Refuse a time column the import would misread (see Times.day_first), and say which
        of its values are placed in UTC for want of a zone. Those are counted on the rows where
        SQL `read` holds, the rows whose value of `ref` is read: an open deal's close date, an
        event's ActivityDate beside its ActivityDateTime are read as no time, and counted as
        read in UTC they made the warning's count false. The refusal reads every row kept: a
        day-first value anywhere in the column says how the column is written. A column is
        checked once: its first check gives every row that reads it."""
        if ref in self._checked:
            return
        self._checked.add(ref)
        # 13/01/2026 read month-first is no date, and 05/01/2026 is read as 1 May: refuse the
        # column rather than load its days and months swapped.
        self.refuse(ref, self.times.day_first(text(ref)), lambda value: (
            f"{value!r} is a day-first date ({value.split('/')[0].strip()} is no month), but dates "
            f"are read month-first (m/d/Y) unless a format is given; "
            f"{self.times.day_first_advice(value.strip())}"))
        if not self.times.zone_given:
            # Say which values were placed in UTC because no zone was given: calendar dates
            # (UTC days), and times of day without an offset, which a CRM's UI exports write in
            # the user's zone: read as UTC, an event near midnight moved to another month.
            v, where = text(ref), f"{self.path.name} {self._names[ref]}"
            # A CASE: DuckDB evaluates every operand of an AND on every row, and the formats that
            # fail on a time with an offset took 30 s over a million of them.
            kind = (f"case when coalesce(regexp_full_match({v}, '{WITH_OFFSET}'), false) then 'offset' "
                    f"when {self.times.date_only(v)} then 'date' "
                    f"when {self.times.local(v)} is not null then 'naive' end")
            dates, naive = self.con.execute(
                "select count(*) filter (where kind = 'date'), count(*) filter (where kind = 'naive') "
                f"from (select {kind} as kind from {self.name} where {self.kept} and ({read}))").fetchone()
            if dates:
                self.notes.append(self.times.dates_at_utc_midnight(
                    where, counted(dates, "calendar date"), "it" if dates == 1 else "them"))
            if naive:
                self.notes.append(self.times.naive_times_in_utc(where, counted(naive, "time")))


def _misread(cols: list[str], expected: int) -> bool:
    """Whether DuckDB read fewer columns than the header's `expected` (see Export._refuse_misread)."""
    return len(cols) < expected or cols == ["column0"]


def text(sql: str) -> str:
    # The loader's blanks (tabs, no-break spaces too): a value the importer keeps as it is must
    # read the same to the loader, or a time wrapped in a no-break space, unread here, was
    # read as UTC there.
    return without_blanks(sql)


def _first_filled(refs: tuple[str, ...]) -> str:
    return f"coalesce({', '.join(text(r) for r in refs)})"


def seniority_from_title(title_sql: str) -> str:
    """A lead-value dimension most CRMs lack: derived from the job title's usual words."""
    t = f"lower({title_sql})"
    return (f"case when {t} is null then null "
            f"when regexp_matches({t}, '\\b(chief|ceo|cto|cfo|cmo|coo|cio|founder|owner|president)\\b') "
            f"then 'c_level' "
            f"when regexp_matches({t}, '\\b(vp|vice president|svp|evp)\\b') then 'vp' "
            f"when regexp_matches({t}, '\\b(director|head)\\b') then 'director' "
            f"when regexp_matches({t}, '\\b(manager|lead)\\b') then 'manager' "
            f"else 'individual' end")


@dataclass(frozen=True)
class Imported:
    """What an import wrote: rows per table, and notes for the user (values read in a way they
    should know of, rows left out). `left_out`: per table, the export's rows a mapping's
    keep_rows or skip_rows left out (the notes say by which value)."""

    rows: dict[str, int]
    notes: list[str]
    left_out: dict[str, int] = field(default_factory=dict)


class Job:
    """One import: its DuckDB connection and its output, committed only when every table is
    written (`with Job(...) as job:`)."""

    def __init__(self, out: Path, tables: list[str], inputs: list[Input]) -> None:
        # The connection first: a bad FUNNELPACT_DUCKDB_MEMORY_LIMIT stops the import before
        # the output's staging folder is made in --out, where nothing would remove it.
        self.con = connect()
        try:
            self.output = Output(out, tables, inputs)
        except BaseException:
            self.con.close()
            raise
        # What does not fit in the memory limit is spilled into the output's staging folder, on
        # the disk the import writes to, and gone with it. DuckDB's default, `.tmp` in the
        # current folder, may not be writable: the import failed, saying the export was unreadable.
        self.con.execute(f"set temp_directory = {quote(str(self.output.staging / 'spill'))}")
        self.rows: dict[str, int] = {}
        self.notes: list[str] = []
        self.left_out: dict[str, int] = {}
        self._exports: list[Export] = []

    def __enter__(self) -> Job:
        # The output's own enter: SIGTERM (`timeout`, `kill`) then unwinds and discards the
        # staging folder; without it an import terminated at once and left its hidden
        # .funnelpact-import-… folder in --out for good.
        self.output.__enter__()
        self._interrupted = interrupted_by_ctrl_c(self.con)
        self._interrupted.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._interrupted.__exit__(None, None, None)
        self.con.close()
        if isinstance(exc, InputError):
            # Said with the error (pipelines.cli.output.report_input_error): a warning may be
            # its cause, and printed only after a success, it was lost (a UTF-8 export read as
            # cp1252 stopped with "missing the contact id column" and no word of the encoding).
            for note in self.result().notes:
                exc.add_note(note)
        self.output.__exit__(kind, exc, tb)  # commit, or discard after a failure

    def export(self, given: Input, name: str, times: Times, reads: Collection[str],
               reads_matching: Callable[[str], bool] | None = None, delimiter: str | None = None,
               labels: dict[str, tuple[str, ...]] | None = None, report_footer: bool = False,
               encoding: Encoding = UTF8) -> Export:
        """The export `given`, read for the columns `reads` and `reads_matching` (see Export)."""
        # A file that two tables of a mapping read (contacts and their stage dates from one
        # people file) is read once: read again, it took twice the time and memory, and its
        # notes were said twice.
        how = read_as(reads, reads_matching, delimiter, labels, report_footer, encoding)
        export = next((e.with_times(times) for e in self._exports if same_file(e.path, given.path)
                       and e.read_as == how), None)
        if export is None:
            # A copy in UTF-8 goes with the staging folder, whether the import succeeds or fails.
            export = Export(self.con, given, name, times, reads, reads_matching, delimiter, labels, report_footer,
                            encoding, self.output.staging / "utf-8")
        self._exports.append(export)
        return export

    def write(self, table: str, select: dict[str, str], from_sql: str,
              keep_as: str | None = None) -> None:
        """Write the canonical `table`; `keep_as` keeps its rows as a temp table of that name
        for later steps of the import."""
        written = keep_as or "_fp_out"
        self.rows[table] = self.output.write(self.con, table, select, from_sql, written)
        self._note_rounded_ids(table, written)
        if keep_as is None:
            self.con.execute(f"drop table {written}")

    def drop(self, *tables: str) -> None:
        """Drop the temp tables no later step reads (those that exist): each holds its rows in
        memory until dropped, and held to the end of an import they made its peak."""
        for table in tables:
            self.con.execute(f"drop table if exists {table}")

    def _note_rounded_ids(self, table: str, written: str) -> None:
        """Say which ids a spreadsheet wrote in scientific notation: Excel shows a number of 12
        or more digits (a HubSpot Record ID) as 1.23457E+11 and saves it so. The digits are
        lost, so nothing can restore them: such an id matched no deal's contact id, and ids
        that round alike read as one contact, quarantined as conflicting."""
        ids = [c.name for c in TABLES[table].columns if c.name.endswith("_id")]
        if not ids:  # web_sessions
            return
        # The rows just written (the temp table `written`), not the CSV file read again.
        found = self.con.execute("select " + ", ".join(
            f"count(*) filter (where {_rounded(c)}), min({_text(c)}) filter (where {_rounded(c)})" for c in ids)
            + f" from {written}").fetchone()
        for i, column in enumerate(ids):
            if count := found[2 * i]:
                self.notes.append(
                    f"warning: {table}.{column}: {count:,} of {counted(self.rows[table], 'id')} "
                    f"{'is' if count == 1 else 'are'} in a spreadsheet's scientific "
                    f"notation (e.g. {found[2 * i + 1]!r}): {its(count)} digits are lost, so "
                    f"{'it' if count == 1 else 'they'} may match no other "
                    "row; export the file again without saving it from a spreadsheet, or open the column as text")

    def result(self) -> Imported:
        return Imported(self.rows, self._export_notes() + self.notes, self.left_out)

    def _export_notes(self) -> list[str]:
        """The exports' notes in order, each said once per file: a mapping's contacts and
        lifecycle_events both check people.csv's Signed up, and its warning was said once per
        table. Two tables that read the column's rows differently (another keep_rows) count
        other rows: both notes are true and both are said."""
        notes: list[str] = []
        said: dict[str, list[Path]] = {}  # note -> the files it was said of
        for e in self._exports:
            for note in e.notes:
                files = said.setdefault(note, [])
                if not any(same_file(e.path, f) for f in files):
                    files.append(e.path)
                    notes.append(note)
        return notes


@contextlib.contextmanager
def progress(paths: list[Path], what: str) -> Iterator[None]:
    """A spinner on stderr while large exports are converted."""
    size = sum(p.stat().st_size for p in {p.resolve() for p in paths} if p.is_file())  # a file two tables read: once
    if size < LARGE_FILE_BYTES:
        yield
        return
    from pipelines.cli.output import err_console

    with err_console.status(f"importing {what} ({size / 1e6:.0f} MB)…"):
        yield
