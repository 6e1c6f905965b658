"""Finding a canonical table's file(s) in a data directory and reading them as text.

Everything is read as varchar so a bad value becomes a quarantined row, not a crash; the
typing happens afterwards in SQL (`pipelines.data.parsing`).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

from pipelines.data.csv_check import READ_OPTIONS, first_bad_line, refuse_blank_header
from pipelines.errors import InputError, Problem, visible
from pipelines.warehouse.connection import without_progress_bar


@dataclass(frozen=True)
class Source:
    table: str
    kind: str  # "csv" or "parquet"
    paths: tuple[Path, ...]
    display: str  # what error messages and the quarantine call the source
    # A CSV's lines of only blanks (an editor's last line of spaces, a tab), read without them
    # as DuckDB reads it without its empty lines: how many there are (see _skipping_blank_lines).
    blank_lines: int = 0

    def relative(self, data_dir: Path) -> list[str]:
        return [_relative(p, data_dir) for p in self.paths]


def _relative(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return path.as_posix()


def require_utf8_path(path: Path, expected: str, field: str | None = None) -> None:
    """Exit 2 naming a path DuckDB cannot open: one whose name is not UTF-8 (a folder named in
    Latin-1, which Python holds as surrogates) failed every read with "cannot encode str as
    UTF-8", reported as a CSV that is not UTF-8, or as an exit 3."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(Problem(f"the path is not UTF-8 text, and DuckDB opens only UTF-8 paths: expected {expected} "
                                 "(rename it, or link it under a UTF-8 name)", file=visible(str(path)), field=field)) from None


def require_data_dir(data_dir: Path) -> None:
    """Exit 2 naming the data directory when it is not a folder DuckDB can read."""
    require_utf8_path(data_dir, "a data directory whose path is UTF-8")
    if not data_dir.is_dir():
        from pipelines.settings import DATA_ENV, default_folder_hint

        what = "is a file, not a folder" if data_dir.exists() else "not found"
        hint = default_folder_hint(data_dir, DATA_ENV, "data", "--data DIR")
        raise InputError(Problem(f"data directory {what}{hint}: expected a folder with "
                                 "contacts.csv, lifecycle_events.csv, … (create one with `funnelpact generate --out DIR` "
                                 "or an importer)", file=str(data_dir)))


def table_paths(data_dir: Path, table: str) -> tuple[Path, Path, Path]:
    """Where a table can be in a data directory: <table>.csv, <table>.parquet (a file, or a
    folder of Parquet parts as Spark writes a table), or a folder <table>/ of Parquet parts.
    A table is given in exactly one of them."""
    return data_dir / f"{table}.csv", data_dir / f"{table}.parquet", data_dir / table


def find_source(data_dir: Path, table: str) -> Source | None:
    """The one place a table can come from, or None when it is absent."""
    # A link to nothing is there: taken for an absent table, its KPIs were no_data without a word.
    found = [p for p in table_paths(data_dir, table) if p.exists() or p.is_symlink()]
    if odd := misnamed(data_dir, table, found):
        raise InputError(_misnamed_problem(odd, table, found))
    if not found:
        if other := _other_format(data_dir, table):
            raise InputError(Problem(
                f"is {other[1]}, which the load does not read, and the '{table}' table is given in no form it "
                f"reads: expected {table}.csv (UTF-8 CSV with a header row), {table}.parquet or a folder {table}/ "
                "of Parquet parts (export or convert the table to one of them)", file=str(other[0])))
        return None
    if len(found) > 1:
        names = ", ".join(_relative(p, data_dir) + ("/" if p.is_dir() else "") for p in found)
        raise InputError(Problem(
            f"table '{table}' is given more than once ({names}); keep exactly one of "
            f"{table}.csv, {table}.parquet or {table}/", file=str(data_dir)))
    path = found[0]
    if path.is_dir() and path.name.endswith(".csv"):
        raise InputError(_csv_folder(path, table))
    if path.is_dir():
        _refuse_table_format(path, table)
        # A name starting with '.' or '_' is a writer's own (a part still being written,
        # `_SUCCESS`), as Spark and Hive read folders: not a part of the table.
        # A subfolder named *.parquet is no part: _refuse_unread_parts names it when it holds any.
        files = tuple(sorted(p for p in path.glob("*.parquet")
                             if not p.name.startswith((".", "_")) and not p.is_dir()))
        for file in files:
            require_utf8_path(file, f"the parts of '{table}' named in UTF-8")
            _require_a_file(file, "a Parquet file")
        _refuse_unread_parts(path, table)
        if not files:
            raise InputError(Problem(
                f"folder holds no *.parquet files; expected the Parquet parts of '{table}'",
                file=str(path)))
        return Source(table, "parquet", files, str(path))
    csv, parquet, _ = table_paths(data_dir, table)
    _require_a_file(path, {csv: "a UTF-8 CSV file", parquet: "a Parquet file"}.get(path, "a folder of Parquet files"))
    return Source(table, "csv" if path == csv else "parquet", (path,), str(path))


def misnamed(data_dir: Path, table: str, found: list[Path]) -> Path | None:
    """A file or folder named as the table but for its case (`deals.CSV`, `Deals/`, as Windows
    tools and some exports write names) or compression (`deals.csv.gz`), or None. `found`: the
    table's exact paths that exist.

    The load looks up the exact names only: such a table was absent, its KPIs no_data without
    a word; beside the exact name, it was a second source of the table, left unread."""
    exact = {p.name.lower() for p in table_paths(data_dir, table)} | {f"{table}.csv.gz"}
    for entry in _listing(data_dir):
        if entry.name.lower() in exact and entry not in found and not any(same_file(entry, p) for p in found):
            return entry  # (not the same file: a file system that ignores case names the file read so)
    return None


# Data files the load does not read, by how their names end: a table exported so (deals.xlsx)
# was absent, its KPIs no_data without a word. Only where the table is given in no form the
# load reads: the export a deals.csv was converted from may stay beside it.
_OTHER_FORMATS = {".xlsx": "an Excel workbook", ".xlsm": "an Excel workbook", ".xls": "an Excel workbook",
                  ".ods": "a spreadsheet", ".tsv": "a tab-separated file", ".txt": "a text file",
                  ".json": "a JSON file", ".jsonl": "a JSON-lines file", ".ndjson": "a JSON-lines file",
                  ".zip": "a ZIP archive", ".csv.bz2": "a compressed CSV", ".csv.xz": "a compressed CSV",
                  ".csv.zst": "a compressed CSV", ".avro": "an Avro file", ".orc": "an ORC file",
                  ".feather": "an Arrow file", ".arrow": "an Arrow file"}


def _other_format(data_dir: Path, table: str) -> tuple[Path, str] | None:
    """A file of the table in a format the load does not read (`deals.xlsx`), and what it is."""
    for entry in _listing(data_dir):
        name = entry.name.lower()
        if name.startswith(f"{table}.") and (kind := _OTHER_FORMATS.get(name[len(table):])):
            return entry, kind
    return None


def _listing(data_dir: Path) -> list[Path]:
    """The entries of the data directory, sorted; none where it cannot be listed (absent, or a
    folder that may be searched but not listed)."""
    try:
        return sorted(data_dir.iterdir())
    except OSError:
        return []


def _misnamed_problem(entry: Path, table: str, found: list[Path]) -> Problem:
    if entry.name.lower().endswith(".gz"):
        what = f"is a compressed CSV, which the load does not read: expected {table}.csv (decompress it)"
    else:
        what = (f"is named like the '{table}' table, which the load reads only from {table}.csv, "
                f"{table}.parquet or a folder {table}/, named in lower case")
        if not found:
            what += f": rename it {entry.name.lower()}{'/' if entry.is_dir() else ''}"
    if found:
        what += (f"; the table is also given as {', '.join(p.name + ('/' if p.is_dir() else '') for p in found)}: "
                 "keep exactly one source of the table")
    return Problem(what, file=str(entry))


def same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)  # hard links
    except OSError:
        return False


def _csv_folder(folder: Path, table: str) -> Problem:
    """A folder named <table>.csv: read as a folder of Parquet parts, its CSV parts (as Spark
    writes `df.write.csv("deals.csv")`) were refused as no parts, and its Parquet parts read
    under a name that says CSV. CSV parts are not read: Spark writes them without a header
    row unless told, and a part's first row is then no header but a row."""
    parquet = any(p.name.endswith(".parquet") for p in folder.iterdir() if not p.name.startswith((".", "_")))
    if parquet:
        what = f"rename the folder to {table}/ or {table}.parquet/, as a folder of Parquet parts is named"
    else:
        what = (f"a folder of CSV parts, as Spark writes a table, is not read: join the parts into one file "
                f"{table}.csv with the header row once, or write the table as Parquet parts in a folder "
                f"{table}/ or {table}.parquet/")
    return Problem(f"is a folder{' of Parquet parts' if parquet else ''}: expected {table}.csv to be one "
                   f"UTF-8 CSV file with a header row ({what})", file=str(folder))


_SPECIAL = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
            (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def _require_a_file(path: Path, expected: str) -> None:
    """Exit 2 naming a table's file (or part) that is no regular file: a link whose target is
    gone or that loops (a crash in the load, exit 3), a named pipe (the load waited for a
    writer, for ever) or a device (/dev/zero is endless). No permission to look is left to
    the caller, which names it as such."""
    try:
        mode = path.stat().st_mode  # follows links: what would be read
    except OSError as exc:
        if not path.is_symlink() or isinstance(exc, PermissionError):
            raise
        raise InputError(Problem(f"is a link to {os.readlink(path)}, which cannot be read ({exc.strerror}): "
                                 f"expected {expected} (or a link to one)", file=str(path))) from None
    if not stat.S_ISREG(mode):
        what = next((name for test, name in _SPECIAL if test(mode)), "no regular file")
        raise InputError(Problem(f"is {what}, not a file: expected {expected}", file=str(path)))


def _refuse_unread_parts(folder: Path, table: str) -> None:
    """Rows in a table's folder that the load would not read: Parquet parts in a subfolder
    (`contacts/dt=2026-12-01/part-0.parquet`, as some extract-and-load tools lay out a day)
    or named `*.PARQUET`, and CSV files (a daily `2026-12-01.csv` landed beside the parts).
    Left unread, their rows were silently missing from every run and the next load said "no
    new or changed file". Hidden and `_` entries (`.tmp/`, `_SUCCESS`) are a writer's own
    and stay ignored, as do files that hold no rows (`README.md`, `manifest.json`)."""
    unread = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith((".", "_")):
            continue
        if entry.is_dir():
            if any(f.is_file() and _holds_rows(f.name) for f in entry.rglob("*")):
                unread.append(f"{entry.name}/")
        elif _holds_rows(entry.name) and not entry.name.endswith(".parquet"):
            unread.append(entry.name)
    if unread:
        raise InputError(Problem(
            f"holds table data the load does not read: {', '.join(unread)}; expected the parts of "
            f"'{table}' directly in the folder, each a Parquet file named *.parquet (move them up, "
            f"or rename or convert them; a table given as CSV is one file, {table}.csv, in place of the folder)",
            file=str(folder)))


def _holds_rows(name: str) -> bool:
    return name.lower().endswith((".parquet", ".pq", ".parq", ".csv", ".csv.gz"))


# A table format keeps in its folder the Parquet files of every version (rows since updated or
# deleted, until a VACUUM or a cleaning), and which are current in its log, under a name the
# load skips as a writer's own: every version's rows were read.
_TABLE_FORMATS = {"_delta_log": "a Delta Lake table", ".hoodie": "an Apache Hudi table"}


def _refuse_table_format(folder: Path, table: str) -> None:
    for log, what in _TABLE_FORMATS.items():
        if (folder / log).is_dir():
            raise InputError(Problem(
                f"is {what} (it holds {log}/): its Parquet files are those of every version of the table, "
                f"rows since updated or deleted too, and the load would read them all; expected the plain "
                f"Parquet parts of '{table}' (write out the table's current version, e.g. with Spark: "
                f"read it and write it with df.write.parquet)", file=str(folder)))


# 2^40 rows per file is far beyond any export; leaves 2^23 files.
ROW_BITS = 40


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def file_sql(path: Path | str) -> str:
    """SQL literal of a file for DuckDB to read, its name taken as it is. DuckDB reads a name as
    a glob pattern: a part named '*.parquet' read every part of its folder again, and a data
    directory 'd [1]' the files of a folder 'd 1' beside it. In brackets, a glob character
    stands for itself."""
    return quote(re.sub(r"[*?\[]", lambda m: f"[{m.group()}]", str(path)))


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def reader_sql(source: Source) -> str:
    """read_csv/read_parquet of a source as the loader reads it (CSV all text)."""
    files = "[" + ", ".join(file_sql(p.resolve()) for p in source.paths) + "]"
    if source.kind == "csv":
        # The sniffer cannot find a header when every column is varchar: say there is one,
        # and that it is the first line (else a wider last row was taken for the header,
        # and the rows before it for a preamble).
        skip = SKIPPING_BLANK_LINES if source.blank_lines else ""
        return f"read_csv({files}, all_varchar = true, header = true, skip = 0, delim = ',', {READ_OPTIONS}{skip})"
    # union_by_name: parts may hold one column in types of one kind (INTEGER and BIGINT, two
    # DECIMALs), which DuckDB then reads in the wider type, not cast to the first part's.
    # The file's name under a name of ours: `filename = true` clashed with a column 'filename'
    # (as DuckDB's own option writes it into a file), and the file was refused as no Parquet.
    return (f"read_parquet({files}, filename = {quote(FILE_COLUMN)}, file_row_number = true, "
            "union_by_name = true)")


_REJECTS, _REJECT_SCANS = "_fp_rejects", "_fp_reject_scans"
# read_csv's options that read a CSV without its lines of only blanks. DuckDB reads such a line
# as a row of one value, a bad row: only when that is all that is wrong (skippable_blank_lines)
# may bad rows be skipped, and each skipped line is kept, for skipped_only_blank_lines to check.
SKIPPING_BLANK_LINES = (f", ignore_errors = true, store_rejects = true, rejects_table = {quote(_REJECTS)}, "
                        f"rejects_scan = {quote(_REJECT_SCANS)}")
FILE_COLUMN = "_fp_file"
# The row number of read_parquet cannot be renamed: a file with a column of that name is
# named as such (_reserved_column), not as a file that is no Parquet.
ROW_NUMBER_COLUMN = "file_row_number"


def source_columns(con: duckdb.DuckDBPyConnection, source: Source) -> dict[str, str]:
    """Source column name -> its type, without reading the data."""
    if source.kind == "csv":
        for path in source.paths:
            refuse_blank_header(path)
    try:
        rows = con.execute(f"describe select * from {reader_sql(source)}").fetchall()
    except duckdb.Error as exc:
        if (skipping := _skipping_blank_lines(source)) is None:
            raise _reserved_column(con, source) or unreadable(source, exc) from None
        try:
            rows = con.execute(f"describe select * from {reader_sql(skipping)}").fetchall()
        except duckdb.Error:
            raise unreadable(source, exc) from None
    columns = {r[0]: r[1] for r in rows if r[0] not in (FILE_COLUMN, ROW_NUMBER_COLUMN)}
    if source.kind == "csv" and list(columns) == ["column0"]:  # how DuckDB reads an empty file
        raise unreadable(source, duckdb.InvalidInputException("no header row"))
    return columns


def _reserved_column(con: duckdb.DuckDBPyConnection, source: Source) -> InputError | None:
    """A Parquet column named file_row_number or _fp_file (any case), which the loader cannot
    read the file's row numbers or name beside; None when there is none, or the footers cannot
    be read."""
    if source.kind != "parquet":
        return None
    files = "[" + ", ".join(file_sql(p) for p in source.paths) + "]"
    try:
        found = con.execute(f"select file_name, name from parquet_schema({files}) where lower(name) in "
                            f"({quote(ROW_NUMBER_COLUMN)}, {quote(FILE_COLUMN)}) limit 1").fetchone()
    except duckdb.Error:
        return None
    if found is None:
        return None
    what = "row numbers" if found[1].lower() == ROW_NUMBER_COLUMN else "file names"
    return InputError(Problem(
        f"column '{found[1]}' has the name of the {what} the loader reads each Parquet file with: "
        "expected no column of that name (it is no column of the table: drop or rename it)",
        file=found[0], field=found[1]))


def skippable_blank_lines(path: Path, delimiter: str = ",",
                          encoding_setting: Callable[[str], str] | None = None) -> int:
    """How many lines of only blanks the CSV `path` has, when those are all that kept DuckDB
    from reading it (it reads an empty line as no row, but a line of spaces or a tab as a row of
    one value, and refused the file); else 0. Such a line holds no value in any column, as
    blanks are removed from every value: the loader and the importers read the file again
    with SKIPPING_BLANK_LINES. Only on the way to an error: it reads the file again, line by line."""
    blank: list[int] = []
    return 0 if first_bad_line(path, delimiter, encoding_setting, blank_lines=blank) else len(blank)


def skipped_only_blank_lines(con: duckdb.DuckDBPyConnection, count: int) -> bool:
    """Whether the reads with SKIPPING_BLANK_LINES skipped exactly the `count` lines of only
    blanks of the file, and nothing else; the rejects DuckDB kept are dropped."""
    try:
        skipped = con.execute(f"select distinct line_byte_position, error_type, csv_line from {_REJECTS}").fetchall()
    finally:
        drop_skipped(con)
    return (len(skipped) == count
            and all(kind == "MISSING COLUMNS" and not text.strip() for _, kind, text in skipped))


def drop_skipped(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the rejects a read with SKIPPING_BLANK_LINES kept: the next file's read adds to them."""
    con.execute(f"drop table if exists {_REJECTS}; drop table if exists {_REJECT_SCANS}")


def _skipping_blank_lines(source: Source) -> Source | None:
    """The CSV source read without its lines of only blanks, when those are all that kept
    DuckDB from reading it (skippable_blank_lines); else None."""
    if source.kind != "csv" or not (count := skippable_blank_lines(source.paths[0])):
        return None
    return replace(source, blank_lines=count)


def unreadable(source: Source, exc: Exception) -> Exception:
    if isinstance(exc, duckdb.OutOfMemoryException):
        # The limit's doing (FUNNELPACT_DUCKDB_MEMORY_LIMIT), not the file's: it was "cannot read
        # the file; expected UTF-8 CSV" for every table (exit 2), sending the reader to sound data.
        # Raised as it is, it fails the run (exit 3) with the hint naming the limit.
        return exc
    if source.kind == "csv":
        for path in source.paths:
            # Lines of blanks are read without (skippable_blank_lines): the line named is another.
            if found := first_bad_line(path):
                return InputError(Problem(found[1], file=str(path), line=found[0]))
    file = source.display
    if source.kind == "parquet" and len(source.paths) == 1:
        file = str(source.paths[0])  # also a part appended alone, whose source shows as its folder
    elif source.kind == "parquet" and (found := _unreadable_part(source.paths)):
        file, exc = str(found[0]), found[1]
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    kind = "UTF-8 CSV with a header row" if source.kind == "csv" else "Parquet"
    return InputError(Problem(f"cannot read the file; expected {kind}: {first_line}", file=file))


def _unreadable_part(paths: tuple[Path, ...]) -> tuple[Path, duckdb.Error] | None:
    """The first Parquet part DuckDB cannot read on its own, with its error; None when each
    reads alone. A damaged data page fails the folder's read with an error that names no file
    ("Variable-length int over 10 bytes."), and a daily export's folder holds hundreds of parts.
    Only on the way to an error: it reads the parts again, up to the damaged one."""
    con = without_progress_bar(duckdb.connect())
    try:
        for path in paths:
            try:
                # hash of every column: each value is decoded, while memory holds one row.
                con.execute(f"select max(hash(columns(*))) from read_parquet({file_sql(path.resolve())})").fetchone()
            except duckdb.Error as exc:
                return path, exc
        return None
    finally:
        con.close()


def is_read_error(exc: duckdb.Error) -> bool:
    """Whether a failed query over a source blames its data, not our SQL or the machine."""
    ours = (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException,
            duckdb.OutOfMemoryException)
    return not isinstance(exc, ours) and "No space left on device" not in str(exc)


def _as_text(column: str, type_: str) -> str:
    if type_.upper().startswith("TIMESTAMP WITH TIME ZONE"):
        # A varchar cast would render it in the session's time zone; pin it to UTC.
        return f"strftime(timezone('UTC', {ident(column)}), '%Y-%m-%d %H:%M:%S.%f')"
    return f"cast({ident(column)} as varchar)"


def read_as_text(con: duckdb.DuckDBPyConnection, source: Source,
                 canonical: list[str], mapping: dict[str, str], columns: dict[str, str],
                 scratch: str) -> str:
    """A query that yields the source's canonical columns as varchar plus `_ord`:
    ROW_BITS-packed (file index, 1-based data row), an integer so that deduplication and
    ordering of millions of rows stay cheap.

    Parquet is read in place (file_row_number numbers its rows). A CSV is first copied into
    the temp table `scratch`, as read_csv has no row number: that copy must be made outside an
    explicit transaction, where rows get provisional rowids, and the caller drops it.
    `mapping` is canonical name -> source column; absent optional columns become NULL.
    `columns` is source column -> type.
    """
    select = ", ".join(
        f"{_as_text(mapping[c], columns[mapping[c]])} as {ident(c)}" if c in mapping
        else f"null::varchar as {ident(c)}"
        for c in canonical)
    if source.kind == "csv":
        # Only the canonical columns are copied: an extra column named `rowid` (a SQLite
        # or Oracle dump's) would hide the row numbers below (a Binder Error, a traceback).
        copy = f"create or replace temp table {scratch} as select {select} from "
        try:
            con.execute(copy + reader_sql(source))
        except duckdb.Error as exc:
            if (skipping := _skipping_blank_lines(source)) is None:
                raise unreadable(source, exc) from None
            try:
                con.execute(copy + reader_sql(skipping))
                if not skipped_only_blank_lines(con, skipping.blank_lines):
                    raise unreadable(source, exc) from None
            except duckdb.Error:
                raise unreadable(source, exc) from None
            finally:
                drop_skipped(con)
        # CREATE TABLE keeps the file's row order (preserve_insertion_order), so rowid + 1 is
        # the data row number.
        return f"select *, rowid + 1 as _ord from {scratch}"
    whens = " ".join(f"when {quote(str(p.resolve()))} then {i << ROW_BITS}"
                     for i, p in enumerate(source.paths))
    return (f"select {select}, (case {FILE_COLUMN} {whens} end) + {ROW_NUMBER_COLUMN} + 1 as _ord "
            f"from {reader_sql(source)}")


def file_of(ordinal_sql: str, source: Source, data_dir: Path) -> str:
    """SQL: the source file (relative to the data directory) of a packed `_ord`."""
    names = "[" + ", ".join(quote(n) for n in source.relative(data_dir)) + "]"
    return f"{names}[({ordinal_sql} >> {ROW_BITS}) + 1]"


def row_of(ordinal_sql: str) -> str:
    return f"({ordinal_sql} & {(1 << ROW_BITS) - 1})"
