"""Load a data directory into the warehouse's `raw` schema, enforcing the contract of SPEC §2.

All work is set-based DuckDB SQL: 3.5M contacts with 6M lifecycle events load in ~15 s.
Per table: read as text, blanks around values removed -> drop exact duplicates (counted) ->
type each value and give the first broken rule as the row's reason -> ids repeated with
different content -> rows of unknown contacts -> `raw.<table>`; every row with a reason goes
to `raw.quarantine`.
Every row read is accounted for: rows_read = rows_loaded + quarantined_rows + duplicate_rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import duckdb

from pipelines.agreement.model import RESERVED_STAGE_VALUES, stage_value
from pipelines.data import incremental, parsing
from pipelines.data.csv_check import header as csv_header
from pipelines.data.parts import ANY, canonical_columns, disagreeing, kind as type_kind
from pipelines.data.report import LoadReport, TableLoad
from pipelines.data.row_sql import (record_json, rows_table, scratch_table, text_column,
                                    typed_column, typed_columns, typed_select, without_blanks)
from pipelines.data.sources import (Source, file_of, find_source, ident, is_read_error, quote,
                                    read_as_text, require_data_dir, row_of, source_columns, unreadable)
from pipelines.data.tables import MONEY, TABLES, Table
from pipelines.errors import InputError, Problem, visible
from pipelines.warehouse.connection import transaction

QUARANTINE_COLUMNS = ("table_name varchar, source_file varchar, row_number bigint, "
                      "reason varchar, record varchar")


def load_data_dir(data_dir: Path, con: duckdb.DuckDBPyConnection,
                  stage_values: Iterable[str]) -> LoadReport:
    """Load `data_dir` into `raw.*` of `con`: the new files only, when that gives what a full
    reload would (`pipelines.data.incremental`), else everything, replacing the previous load.

    `stage_values` are the lifecycle values some revision knows (`known_stage_values`): an
    event's stage is stored as read, trimmed and lower-cased, and quarantined as
    `unknown_stage` when it is none of them (`recycled` and `disqualified` are always
    known). Which stage it means is each revision's own, applied in dbt
    (`stg_agreement__stage_values`). Raises InputError for a missing directory, required
    table or required column, Parquet parts that disagree, or an unreadable file; nothing is
    written then.
    """
    data_dir = Path(data_dir)
    require_data_dir(data_dir)
    with _in_utc(con):
        return _load_dir(data_dir, con, stage_values)


@contextmanager
def _in_utc(con) -> Iterator[None]:
    """The load runs with the session in UTC; the caller gets its zone back. DuckDB casts
    between timestamp and timestamp with time zone in the session's zone, which a connection
    takes from its machine (TZ): no value the loader stores may depend on where it ran."""
    zone = con.execute("select current_setting('TimeZone')").fetchone()[0]
    con.execute("set TimeZone = 'UTC'")
    try:
        yield
    finally:
        con.execute(f"set TimeZone = {quote(zone)}")


def _load_dir(data_dir: Path, con, stage_values: Iterable[str]) -> LoadReport:
    plans = _plan(data_dir, con)
    known = _known_values(stage_values)
    current = incremental.stamps(data_dir, {name: plan[0] if plan else None for name, plan in plans.items()})
    step = incremental.plan_increment(con, current, known)
    if isinstance(step, incremental.Increment):
        appended = _append(con, data_dir, plans, step, current, known)
        if isinstance(appended, LoadReport):
            return appended
        step = appended
    return _reload(con, data_dir, plans, current, known, why=step)


def _reload(con, data_dir: Path, plans, current, known: list[str], why: str) -> LoadReport:
    _refuse_disagreeing_parts(con, plans)
    try:
        _create_known_values(con, known)
        # Typed and checked one table at a time, outside the transaction (a CSV row's number is
        # its rowid, provisional inside one): only one table's raw text is held at once, which
        # keeps 3.5M contacts with 6M events near 2 GB.
        for name, plan in plans.items():
            if plan is not None:
                _prepare(con, TABLES[name], *plan)
        with transaction(con):
            _load(con, data_dir, plans)
            incremental.record(con, current, known)
            report = _stored_report(con, plans)
    finally:
        _drop_work_tables(con)
    return replace(report, why_full=why)


def _append(con, data_dir: Path, plans, increment: incremental.Increment, current,
            known: list[str]) -> LoadReport | str:
    """Append the new files' rows; or say why they cannot be (nothing is written then)."""
    if not increment.file_count:
        # Every file is as the last load recorded it: the warehouse already holds this.
        return _stored_report(con, plans)
    new_parts = {name: tuple(p for p, rel in zip(plans[name][0].paths, plans[name][0].relative(data_dir))
                             if rel in listed)
                 for name, listed in increment.new_files.items()}
    _refuse_disagreeing_parts(con, plans, new_parts)
    prepared: dict[str, Source] = {}
    try:
        _create_known_values(con, known)
        for name, paths in new_parts.items():
            source, mapping, columns = plans[name]
            new_source = replace(source, paths=paths)
            _prepare(con, TABLES[name], new_source, mapping, columns)
            prepared[name] = new_source
            why = incremental.conflict(con, TABLES[name])
            if why is None and name == "contacts":
                why = incremental.revived_contacts(con, TABLES[name])
            if why is not None:
                return why
        with transaction(con):
            con.execute(f"create or replace temp table _fp_quarantine ({QUARANTINE_COLUMNS})")
            added = [_load_table(con, TABLES[name], prepared[name], data_dir, append=True)
                     for name in TABLES if name in prepared]  # contacts first, as in a full load
            con.execute("insert into raw.quarantine select * from _fp_quarantine "
                        "order by table_name, source_file, row_number")
            con.execute("drop table _fp_quarantine")
            for t in added:
                con.execute("""
                    update raw.load_report set rows_read = rows_read + ?, rows_loaded = rows_loaded + ?,
                        duplicate_rows = duplicate_rows + ?, quarantined_rows = quarantined_rows + ?
                    where table_name = ?""",
                    [t.rows_read, t.rows_loaded, t.duplicate_rows, t.quarantined_rows, t.table_name])
            incremental.record(con, current, known)
            report = _stored_report(con, plans)
    finally:
        _drop_work_tables(con)
    return replace(report, new_files=increment.file_count)


def _refuse_disagreeing_parts(con, plans, new_parts: dict[str, tuple[Path, ...]] | None = None) -> None:
    """Exit 2 when a Parquet part's canonical columns differ from the other parts'
    (`pipelines.data.parts`): on a full load every part against what most parts have; on an
    append only the new parts, against an earlier one (the history's footers are not read
    again)."""
    problems: list[Problem] = []
    for name, plan in plans.items():
        if plan is None or plan[0].kind != "parquet":
            continue
        source = plan[0]
        if new_parts is None:
            reference, parts = None, source.paths  # each part against what most parts have
        elif name in new_parts:
            parts = new_parts[name]
            reference = next(p for p in source.paths if p not in parts)
        else:
            continue
        if len(parts) > 1 or reference is not None:
            try:
                problems.extend(disagreeing(con, TABLES[name], parts, reference))
            except duckdb.Error as exc:
                raise unreadable(source, exc) from None
    if problems:
        raise InputError(problems)


def _drop_work_tables(con) -> None:
    for table in TABLES.values():
        con.execute(f"drop table if exists {scratch_table(table)}")
        con.execute(f"drop table if exists {rows_table(table)}")
    con.execute("drop table if exists _fp_stage_values")


def _stored_report(con, plans) -> LoadReport:
    """The load report as raw.load_report holds it (cumulative over appended loads)."""
    tables = {}
    for name, present, read, loaded, dups, quarantined in con.execute(
            "select table_name, present, rows_read, rows_loaded, duplicate_rows, quarantined_rows "
            "from raw.load_report").fetchall():
        plan = plans.get(name)
        tables[name] = TableLoad(name, present, read or 0, loaded or 0, dups or 0, quarantined or 0,
                                 source=plan[0].display if plan else None)
    by_reason = dict(con.execute(
        "select reason, count(*) from raw.quarantine group by reason order by reason").fetchall())
    return LoadReport(tables={n: tables[n] for n in TABLES if n in tables}, by_reason=by_reason)


def _create_known_values(con, known: list[str]) -> None:
    con.execute("create or replace temp table _fp_stage_values (value varchar)")
    con.executemany("insert into _fp_stage_values values (?)", [(v,) for v in known])


def _known_values(stage_values: Iterable[str]) -> list[str]:
    """Sorted, so that the load state compares equal whatever order the agreements gave."""
    return sorted({stage_value(v) for v in stage_values} | set(RESERVED_STAGE_VALUES))


def _plan(data_dir: Path, con) -> dict[str, tuple[Source, dict[str, str], dict[str, str]] | None]:
    """Find each table and check its columns before anything is written; all problems at once."""
    problems: list[Problem] = []
    plans: dict = {}
    for name, table in TABLES.items():
        try:
            source = find_source(data_dir, name)
            if source is None:
                if not table.optional:
                    problems.append(Problem(
                        f"required table '{name}' not found; expected {name}.csv, "
                        f"{name}.parquet or a folder {name}/ of Parquet files",
                        file=str(data_dir)))
                plans[name] = None
                continue
            columns = source_columns(con, source)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        except OSError as exc:
            # No permission on the file or its folder: bad input naming it, not a traceback in
            # the step (exit 3). Also once DuckDB's read failed and the header is read again.
            problems.append(Problem(f"cannot read the file ({exc.strerror or exc}): expected a file funnelpact "
                                    "can read (check its permissions and its folder's)",
                                    file=str(exc.filename or data_dir)))
            continue
        problems.extend(_repeated_columns(con, source, table))
        by_name = {c.strip().lower(): c for c in columns}
        mapping = {c: by_name[c] for c in table.column_names if c in by_name}
        for missing in (c for c in table.required_columns if c not in mapping):
            problems.append(Problem(
                f"missing required column '{missing}'; {name} needs the columns "
                f"{', '.join(table.required_columns)} (found: {', '.join(map(visible, columns)) or 'none'})",
                file=source.display, field=missing))
        for canonical, source_column in mapping.items():
            if wrong := _wrong_type(table.column(canonical).type, columns[source_column]):
                # The types are the first file's (the other parts must agree: _refuse_disagreeing_parts).
                problems.append(Problem(f"column '{source_column}' is {columns[source_column]}: {wrong}",
                                        file=str(source.paths[0]), field=canonical))
        plans[name] = (source, mapping, columns)
    if problems:
        raise InputError(problems)
    return plans


def _repeated_columns(con, source: Source, table: Table) -> list[Problem]:
    """A canonical column named twice (names match ignoring case): one of them would be read
    and the other dropped without a word. DuckDB renames the second `name_1`, so the names
    come from the file: each CSV's header, the first Parquet part's schema as DuckDB reads it
    (the parts of a folder share it; reading every footer would make each load grow with the
    history). Not pyarrow's: it refused, with a traceback, footers DuckDB reads (a damaged
    ARROW:schema entry, which DuckDB does not use)."""
    if source.kind == "csv":
        headers = [(str(p), [n.strip().lower() for n in csv_header(p)]) for p in source.paths]
    else:
        try:
            schema = canonical_columns(con, table, source.paths[:1])
        except duckdb.Error as exc:
            raise unreadable(source, exc) from None
        headers = [(str(source.paths[0]), [name for name, _ in columns]) for columns in schema.values()]
    problems = []
    for file, names in headers:
        for column in table.column_names:
            if (n := names.count(column)) > 1:
                problems.append(Problem(f"column '{column}' is named {n} times (names match ignoring case): "
                                        "expected it once", file=file, field=column))
    return problems


_NESTED = ("STRUCT", "MAP", "UNION")


def _wrong_type(canonical: str, source_type: str) -> str | None:
    """Why a typed (Parquet) column cannot hold a canonical column's values, or None.

    A whole column of the wrong type is the file's problem, not each row's: epoch numbers as
    created_at would otherwise quarantine every contact, and the run alert both teams.
    """
    if source_type.upper().startswith(_NESTED) or source_type.endswith("[]"):
        return "expected plain values (text, numbers or timestamps), not nested ones"
    if source_type.upper() == "BLOB":
        return ("expected text, numbers or timestamps, not binary data (a writer that stores text as BINARY "
                "without the UTF8 annotation, as Impala and older Hive do: write the column as a string)")
    kind = type_kind(source_type)
    if canonical in ("timestamp", "date") and kind == "number":
        return ("expected ISO 8601 text or a timestamp column (numbers such as epoch seconds "
                "are not read as times)")
    if canonical == "date" and kind in ("naive time", "time with a zone"):
        # A calendar date is YYYY-MM-DD and nothing else: the time of each row would be a
        # bad_date, or (cut off) a silently moved day.
        return "expected a DATE column or YYYY-MM-DD text (a local calendar day, not an instant)"
    readable = _READABLE.get(canonical)
    if readable and kind not in (*readable[0], ANY):
        return readable[1]
    return None


# The kinds of typed column whose values a canonical type reads (besides an all-null one). Any
# other — a BOOLEAN amount, a TIME or INTERVAL created_at, a DATE session count — has no value
# that reads: every row was quarantined.
_READABLE = {
    "timestamp": (("text", "naive time", "time with a zone", "DATE"), "expected ISO 8601 text or a timestamp column"),
    "date": (("text", "DATE"), "expected a DATE column or YYYY-MM-DD text"),
    MONEY: (("text", "number"), "expected a number column or decimal text"),
    "bigint": (("text", "number"), "expected an integer column or whole-number text"),
}


def _load(con, data_dir: Path, plans) -> None:
    con.execute("create schema if not exists raw")
    con.execute(f"create or replace temp table _fp_quarantine ({QUARANTINE_COLUMNS})")
    loads = {}
    for name, table in TABLES.items():  # contacts first: the others are checked against it
        plan = plans[name]
        if plan is None:
            con.execute(f"create or replace table raw.{name} ({_column_defs(table)})")
            loads[name] = TableLoad(name, present=False)
            continue
        loads[name] = _load_table(con, table, plan[0], data_dir)
    con.execute("create or replace table raw.quarantine as select * from _fp_quarantine "
                "order by table_name, source_file, row_number")
    con.execute("create or replace table raw.load_report (table_name varchar, present boolean, "
                "rows_read bigint, rows_loaded bigint, duplicate_rows bigint, "
                "quarantined_rows bigint)")
    con.executemany("insert into raw.load_report values (?, ?, ?, ?, ?, ?)", [
        (t.table_name, t.present, t.rows_read, t.rows_loaded, t.duplicate_rows,
         t.quarantined_rows) for t in loads.values()])
    con.execute("drop table _fp_quarantine")


def _column_defs(table: Table) -> str:
    return ", ".join(f"{ident(c.name)} {c.type}" for c in table.columns)


def _reason_sql(table: Table) -> str:
    """The first rule the row breaks, in a fixed order, or NULL."""
    rules: list[tuple[str, str]] = []
    for c in table.columns:
        if c.required:
            rules.append((f"{text_column(c.name)} is null", f"missing_required:{c.name}"))
    for c in table.columns:
        if c.type in parsing.BAD_VALUE:
            rules.append((f"{text_column(c.name)} is not null and {typed_column(c)} is null",
                          f"{parsing.BAD_VALUE[c.type]}:{c.name}"))
    for c in table.columns:
        if c.allowed:
            allowed = ", ".join(f"'{v}'" for v in c.allowed)
            rules.append((f"{text_column(c.name)} is not null and "
                          f"lower({text_column(c.name)}) not in ({allowed})", f"invalid_value:{c.name}"))
        if c.is_stage:
            rules.append((f"{text_column(c.name)} is not null and _stage is null", "unknown_stage"))
    for c in table.columns:
        if c.non_negative:
            rules.append((parsing.negative(text_column(c.name)), f"negative_{c.name}"))
    whens = " ".join(f"when {cond} then '{reason}'" for cond, reason in rules)
    return f"case {whens} end"


def _prepare(con, table: Table, source: Source, mapping: dict[str, str],
             columns: dict[str, str]) -> None:
    """Read the table, drop exact duplicates, give each row its first broken rule in
    `_fp_rows_<table>`."""
    scratch, rows = scratch_table(table), rows_table(table)
    text_query = read_as_text(con, source, table.column_names, mapping, columns, scratch)
    cleaned = ", ".join(f"{without_blanks(ident(c))} as {text_column(c)}" for c in table.column_names)
    stage_col = next((c.name for c in table.columns if c.is_stage), None)
    # The value as stored: trimmed (by `cleaned`), composed and lower-cased as
    # agreement.model.stage_value writes the known values, NULL when no revision knows it.
    stage_join = (f"left join _fp_stage_values sv on sv.value = lower(nfc_normalize({text_column(stage_col)}))"
                  if stage_col else "")
    stage_select = ", sv.value as _stage" if stage_col else ""
    try:
        con.execute(f"""
            create or replace temp table {rows} as
            with distinct_rows as (
                -- Grouped on the values as stored (blanks removed): 'c1' and 'c1 ' are one
                -- contact, and their rows exact duplicates, not two versions of an id.
                select {cleaned}, min(_ord) as _first, count(*) - 1 as _dups
                from ({text_query}) group by all
            ), staged as (
                select c.*{stage_select} from distinct_rows c {stage_join}
            ), typed as (
                select *, {typed_columns(table, '_stage')} from staged
            )
            select *, {_reason_sql(table)} as _reason from typed
        """)
    except duckdb.Error as exc:
        # Parquet is read here (a damaged page, parts of a folder whose types disagree);
        # a CSV was read into its scratch copy already, so its errors are not the file's.
        if source.kind == "parquet" and is_read_error(exc):
            raise unreadable(source, exc) from None
        raise
    con.execute(f"drop table if exists {scratch}")


def _load_table(con, table: Table, source: Source, data_dir: Path, append: bool = False) -> TableLoad:
    name = table.name
    rows = rows_table(table)
    if table.unique_key:
        key = text_column(table.unique_key)
        con.execute(f"""
            update {rows} set _reason = 'conflicting_duplicate_id'
            where _reason is null and {key} in (
                select {key} from {rows} where _reason is null group by {key} having count(*) > 1)
        """)
    ref = next((c.name for c in table.columns if c.references_contact), None)
    if ref:
        con.execute(f"""
            update {rows} set _reason = 'unknown_contact'
            where _reason is null and {text_column(ref)} is not null and not exists (
                select 1 from raw.contacts c where c.contact_id = {rows}.{text_column(ref)})
        """)
    write = f"insert into raw.{name}" if append else f"create or replace table raw.{name} as"
    con.execute(f"{write} select {typed_select(table)} from {rows} where _reason is null order by _first")
    # The row as read, values trimmed (the untrimmed text is not kept: it would double the
    # memory of the largest table for the sake of a few quarantined rows).
    con.execute(f"""
        insert into _fp_quarantine
        select '{name}', {file_of('_first', source, data_dir)}, {row_of('_first')}, _reason, {record_json(table)}
        from {rows} where _reason is not null
    """)
    loaded, quarantined, dups = con.execute(f"""
        select count(*) filter (where _reason is null), count(*) filter (where _reason is not null),
               coalesce(sum(_dups), 0)
        from {rows}""").fetchone()
    con.execute(f"drop table {rows}")
    # Every row read is a distinct row (loaded or quarantined) or one of its exact duplicates.
    return TableLoad(name, present=True, rows_read=loaded + quarantined + int(dups), rows_loaded=loaded,
                     duplicate_rows=int(dups), quarantined_rows=quarantined,
                     source=source.display)
