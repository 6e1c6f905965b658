"""Any CRM's CSV exports -> canonical tables, by a YAML column mapping (see docs/data.md).

    timezone: Europe/Madrid              # naive times in the files are local here (default UTC)
    encoding: cp1252                     # the files' text encoding (default UTF-8)
    tables:
      contacts:
        file: people.csv                 # relative to the mapping file
        columns: {contact_id: Person Id, created_at: Signed up, source: Channel}
        values: {source: {Google Ads: paid_search}}
        constants: {country: ES}
      lifecycle_events:
        file: people.csv
        columns: {contact_id: Person Id}
        stage_columns: {lead: Signed up, mql: MQL date}   # wide form: a date column per stage
      activities:
        file: activities.csv
        columns: {activity_id: ID, contact_id: Person ID, occurred_at: Due date}
        constants: {team: sales}
        keep_rows: {column: Type, values: [Call, Meeting]}   # or skip_rows: the values to leave out

Per table also: `delimiter`, `timezone`, `encoding`, `timestamp_format` (strptime, for non-ISO times).
"""

from __future__ import annotations

import contextlib
import dataclasses
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipelines.agreement.load import decode_utf8
from pipelines.agreement.yaml_source import SourceDocument, dotted, load_yaml
from pipelines.data.importers.common import Export, Imported, Job, progress, quote, text
from pipelines.data.importers.encoding import Encoding, check_encoding
from pipelines.data.importers.output import Input, same_file
from pipelines.data.importers.times import Times, check_format, check_timezone
from pipelines.data.tables import TABLES
from pipelines.errors import InputError, Problem, visible
from pipelines.wording import counted

# Which of a file's rows a table holds: an activities export also holds to-dos and deadlines,
# which were imported as touches or quarantined against the quarantine rate. keep_rows is
# applied first.
ROW_FILTERS = ("keep_rows", "skip_rows")
FILTER_KEYS = ("column", "values")
TABLE_KEYS = {"file", "columns", "values", "constants", "stage_columns", "delimiter",
              "timezone", "encoding", "timestamp_format", *ROW_FILTERS}
# A filter is its table's only: a person contacts' filter left out keeps their rows in the
# tables whose contact must be in contacts, and the loader quarantines those as unknown_contact
# (deals keep any contact_id). Said at import (_warn_of_rows_of_people_left_out), not first
# by a run's quarantine rate. What a row of each is called.
OF_A_CONTACT = {name: {"lifecycle_events": "event", "activities": "activity"}[name]
                for name, t in TABLES.items() if any(c.references_contact for c in t.columns)}
# The ids of the people contacts' filters left out (and no row of contacts kept), and per
# table of OF_A_CONTACT the ids it wrote, with how many rows each.
LEFT_OUT_PEOPLE = "_fp_left_out_people"


def _problem(mapping: Path, field: str, message: str) -> InputError:
    return InputError(Problem(message, file=str(mapping), field=field))


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()} (unquoted yes/no/on/off/true/false are booleans)"
    if value is None:
        return "nothing (empty, ~ or null)"
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    return f"the {type(value).__name__} {value}".replace("the int ", "the number ").replace(
        "the float ", "the number ").replace("the Decimal ", "the number ")


def _text(value: Any, mapping: Path, field: str, what: str = "the value") -> str:
    """A mapping scalar that must be text. str() of what YAML made of an unquoted NO or ~ wrote
    'False' or 'None' into every row."""
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        # Quoting is no cure for a mapping or a list where text belongs: it is most often a key
        # indented into the one above it (`keep_rows:` under `columns:`).
        parts = field.split(".")
        nested = (f"; {parts[-1]} is a key of the table: write it beside '{parts[2]}:', not inside it"
                  if len(parts) == 4 and parts[-1] in TABLE_KEYS else "")
        raise _problem(mapping, field, f"expected text, got {_kind(value)}{nested}")
    raise _problem(mapping, field, f"expected text, but YAML reads {what} as {_kind(value)}: "
                                   "quote it in the mapping")


def _str_map(value: Any, mapping: Path, field: str) -> dict[str, str]:
    """A mapping of text to text (`columns`, `constants`, a value map), every scalar checked."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _problem(mapping, field, f"expected a mapping of names to names, got {_kind(value)}")
    return {_text(k, mapping, field, f"the key {k!r}"): _text(v, mapping, f"{field}.{k}")
            for k, v in value.items()}


def _row_filter(value: Any, mapping: Path, field: str) -> tuple[str, list[str]]:
    """A table's `keep_rows` or `skip_rows`: the export's column, and the values it keeps or skips."""
    shape = "{column: <a column of the export>, values: [<value>, …]}"
    if not isinstance(value, dict):
        raise _problem(mapping, field, f"expected a mapping {shape}, got {_kind(value)}")
    for key in value:
        if key not in FILTER_KEYS:
            raise _problem(mapping, f"{field}.{key}", f"unknown key; expected {' and '.join(FILTER_KEYS)}")
    for key in FILTER_KEYS:
        if key not in value:
            raise _problem(mapping, f"{field}.{key}", f"missing; expected a mapping {shape}")
    values = value["values"]
    if not isinstance(values, list) or not values:
        got = ("an empty list" if values == [] else f"the text {values!r}: write [{values}] for one value"
               if isinstance(values, str) else _kind(values))
        raise _problem(mapping, f"{field}.values", "expected a list of at least one of the column's values, "
                       f"e.g. [Call, Meeting], got {got}")
    return (_text(value["column"], mapping, f"{field}.column"),
            [_text(v, mapping, f"{field}.values[{i}]") for i, v in enumerate(values)])


TOP_KEYS = ("tables", "timezone", "encoding")


def read_mapping(path: Path) -> dict[str, Any]:
    """The mapping in `path`, every key checked (not yet the exports it names)."""
    source = _parse(Path(path))
    with with_lines(source):
        return _checked(Path(path), source.data)


def _parse(path: Path) -> SourceDocument:
    if not path.is_file():
        raise InputError(Problem("mapping file not found; expected a YAML file", file=str(path)))
    # The agreements' reader: a key given twice (YAML keeps the last: a second `timezone:`
    # moved every time) is refused with its line, as is broken YAML.
    # Bytes that are not UTF-8 (a mapping saved as Latin-1) are named with their line, as in
    # an agreement.
    return load_yaml(decode_utf8(path.read_bytes(), str(path)), str(path), "a column mapping")


@contextlib.contextmanager
def with_lines(source: SourceDocument) -> Iterator[None]:
    """Give a problem with a field of the mapping `source` the field's line and column. The
    checks name fields by path (tables.contacts.columns.contact_id), as do the time zone,
    encoding and file checks shared with the other importers: in a mapping of a few hundred
    lines, with one `columns:` per table, the path alone left the line to be searched for."""
    try:
        yield
    except InputError as exc:
        exc.problems[:] = [_located(source, p) for p in exc.problems]
        exc.args = ("\n".join(map(str, exc.problems)),)
        raise


def _located(source: SourceDocument, problem: Problem) -> Problem:
    if problem.file != source.file or problem.line is not None or not problem.field:
        return problem
    # A field the mapping lacks (a required column not mapped, a missing `file:`) is placed at
    # the nearest one it has: the table's `columns:`, the table. Matched by the dotted name,
    # as a key may hold a dot itself (a value map's 'Inc.').
    field = problem.field
    found = max((path for path in source.positions if _within(field, dotted(path))), key=len, default=())
    line, column = source.position(found)
    return dataclasses.replace(problem, line=line, column=column)


def _within(field: str, path: str) -> bool:
    """Whether the dotted `field` is the field `path` or one inside it."""
    return field.startswith(path) and field[len(path):len(path) + 1] in ("", ".", "[")


def _checked(path: Path, doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict) or not isinstance(doc.get("tables"), dict) or not doc["tables"]:
        raise _problem(path, "tables", "expected a 'tables' mapping with at least one of "
                       + ", ".join(TABLES))
    unknown = [key for key in doc if key not in TOP_KEYS]
    if unknown:  # a misspelt `timezone:` read every local time as UTC
        raise _problem(path, str(unknown[0]), f"unknown key; expected {', '.join(TOP_KEYS)}")
    for key in ("timezone", "encoding"):
        if key in doc:
            _text(doc[key], path, key)
    for name, spec in doc["tables"].items():
        _check_table(path, name, spec)
    return doc


def _check_table(path: Path, name: Any, spec: Any) -> None:
    """Every key of one table: known, of the right shape, naming columns of the table."""
    where = f"tables.{name}"
    if name not in TABLES:
        raise _problem(path, where, f"unknown table; expected one of {', '.join(TABLES)}")
    if not isinstance(spec, dict):
        raise _problem(path, where, "expected a mapping with at least 'file' and 'columns'")
    unknown = set(spec) - TABLE_KEYS
    if unknown:
        raise _problem(path, f"{where}.{sorted(unknown, key=str)[0]}",
                       f"unknown key; expected {', '.join(sorted(TABLE_KEYS))}")
    if "file" not in spec:
        raise _problem(path, f"{where}.file", "missing; expected the export's file name "
                       "(relative to the mapping)")
    for key in ("file", "delimiter", "timezone", "encoding", "timestamp_format"):
        if key in spec:
            _text(spec[key], path, f"{where}.{key}")
    values = spec.get("values") or {}
    if not isinstance(values, dict):
        raise _problem(path, f"{where}.values", f"expected a mapping of columns to value maps, "
                       f"got {_kind(values)}")
    for canon, value_map in values.items():
        _str_map(value_map, path, f"{where}.values.{canon}")
    _str_map(spec.get("stage_columns"), path, f"{where}.stage_columns")
    for key in ROW_FILTERS:
        if key in spec:
            _row_filter(spec[key], path, f"{where}.{key}")
    sections = {"columns": _str_map(spec.get("columns"), path, f"{where}.columns"),
                "constants": _str_map(spec.get("constants"), path, f"{where}.constants"),
                "values": values}
    for section, named in sections.items():
        for canon in named:
            if canon not in TABLES[name].column_names:
                raise _problem(path, f"{where}.{section}.{canon}",
                               f"not a column of {name}; expected one of "
                               f"{', '.join(TABLES[name].column_names)}")
    # One source per canonical column: a constant replaced the mapped column without a word
    # (constants: {contact_id: X} gave every contact the id X), stage_columns the mapped stage.
    given = {"stage": "stage_columns", "occurred_at": "stage_columns"} if spec.get("stage_columns") else {}
    for section in ("columns", "constants"):
        for canon in sections[section]:
            if canon in given:
                raise _problem(path, f"{where}.{section}.{canon}",
                               f"{canon} is also given by {where}.{given[canon]}; expected one source per "
                               "column")
            given[canon] = f"{section}.{canon}"


def import_csv(mapping_file: Path, out: Path) -> Imported:
    """Convert the files a mapping names into canonical CSV files in `out`."""
    mapping_file = Path(mapping_file)
    source = _parse(mapping_file)
    with with_lines(source):
        return _import(mapping_file, _checked(mapping_file, source.data), out)


def _import(mapping_file: Path, doc: dict[str, Any], out: Path) -> Imported:
    default_tz = check_timezone(doc.get("timezone", "UTC"), "timezone", str(mapping_file))
    # Checked before any file is read: an unknown name in the last table is not found after
    # the first table's export was converted.
    default_encoding = check_encoding(doc.get("encoding", "utf-8"), "encoding", str(mapping_file))
    encodings = {name: check_encoding(spec["encoding"], f"tables.{name}.encoding", str(mapping_file))
                 if "encoding" in spec else default_encoding for name, spec in doc["tables"].items()}
    base = mapping_file.parent
    inputs = {name: Input(base / spec["file"], f"tables.{name}.file", mapping_file)
              for name, spec in doc["tables"].items()}
    # A file is read for the columns every table taken from it maps, so that it is read once.
    reads = {name: {column for other, spec in doc["tables"].items() if same_file(inputs[other].path, given.path)
                    for column in _mapped(spec)} for name, given in inputs.items()}
    with Job(out, list(doc["tables"]), list(inputs.values())) as job, progress(
            [i.path for i in inputs.values()], "CSV exports"):
        for i, (name, spec) in enumerate(doc["tables"].items()):
            _table(job, name, spec, inputs[name], reads[name], default_tz, "timezone" in doc, mapping_file, i,
                   encodings[name], watched=bool(_filters(doc["tables"].get("contacts"))))
        _warn_of_rows_of_people_left_out(job, doc["tables"], inputs)
    return job.result()


def _filters(spec: dict | None) -> list[str]:
    """The row filters of a table of the mapping, in the order they apply."""
    return [key for key in ROW_FILTERS if key in (spec or {})]


def _people_of(name: str) -> str:
    """The temp table of the contact ids the table `name` wrote (see LEFT_OUT_PEOPLE)."""
    return f"_fp_people_of_{name}"


def _keep_people(job: Job, name: str, written: str, export: Export, contact_id: str) -> None:
    """Keep what _warn_of_rows_of_people_left_out compares of the table `name` just written
    (the temp table `written`; `contact_id`: SQL of its contact id on the rows of `export`).
    Kept as sets of ids, not the rows: the tables are written in the mapping's order, events
    before contacts as well, and an activities export holds millions of rows."""
    if name == "contacts":
        # Ids as written, as the loader compares them; a person whose other row contacts
        # kept is in contacts.
        job.con.execute(f"create temp table {LEFT_OUT_PEOPLE} as select * from ("
                        f"select {contact_id} as contact_id from {export.name} where not {export.kept} "
                        f"except select contact_id from {written}) where contact_id is not null")
    elif name in OF_A_CONTACT:
        # Once contacts is written, only the ids of the people it left out: a set as small as
        # they are, not one of every person with an activity.
        among = (f"contact_id in (select contact_id from {LEFT_OUT_PEOPLE})" if job.con.execute(
            "select count(*) from duckdb_tables() where table_name = ?", [LEFT_OUT_PEOPLE]).fetchone()[0]
            else "contact_id is not null")
        job.con.execute(f"create temp table {_people_of(name)} as select contact_id, count(*) as n "
                        f"from {written} where {among} group by all")


def _warn_of_rows_of_people_left_out(job: Job, tables: dict[str, Any], inputs: dict[str, Input]) -> None:
    """Warn of the rows of a table of OF_A_CONTACT whose person the filters of contacts left
    out: the import wrote them, and the loader quarantines them as unknown_contact, against
    data_quality:quarantine_rate. The people absent from the contacts export are not this
    import's doing: the loader's quarantine says of them."""
    filters = _filters(tables.get("contacts"))
    if not filters:
        return
    by = " and ".join(filters)
    for name in (n for n in tables if n in OF_A_CONTACT):
        rows, people = job.con.execute(
            f"select coalesce(sum(n), 0), count(*) from {_people_of(name)} "
            f"where contact_id in (select contact_id from {LEFT_OUT_PEOPLE})").fetchone()
        if not rows:
            continue
        file, them = inputs["contacts"].path, "it" if rows == 1 else "them"
        # A table of another file cannot take contacts' filter as it is: its column is people.csv's.
        same = (f"give tables.{name} the same {by}" if same_file(inputs[name].path, file)
                else f"leave {them} out of tables.{name} too (a keep_rows or skip_rows of {inputs[name].path.name})")
        job.notes.append(
            f"warning: tables.{name} writes {counted(rows, OF_A_CONTACT[name])} of {counted(people, 'person')} "
            f"that tables.contacts.{by} left out of {file.name}; the loader will quarantine {them} as "
            f"unknown_contact, against data_quality:quarantine_rate: {same}, or drop "
            f"{'the filter' if len(filters) == 1 else 'the filters'} from tables.contacts")
    job.drop(LEFT_OUT_PEOPLE, *map(_people_of, OF_A_CONTACT))


def _mapped(spec: dict) -> list[str]:
    """The columns of its file a table of the mapping reads."""
    return [*(spec.get("columns") or {}).values(), *(spec.get("stage_columns") or {}).values(),
            *(spec[key]["column"] for key in ROW_FILTERS if key in spec)]


def _composed(value: str) -> str:
    """SQL literal of a mapping's value of the export, to compare with nfc_normalize(…) of the
    export's: in Unicode's composed form (NFC), as names are (common.name_key), since a value
    with a combining accent looks like the mapping's and was left unmapped."""
    return quote(unicodedata.normalize("NFC", value))


def _row_filter_sql(job: Job, export: Export, name: str, key: str, ref: str, column: str, listed: list[str],
                    before: list[str]) -> str:
    """SQL: whether a row stays by the filter `key` on the export's column `ref`. Says in a note
    how many rows it left out of those the filters `before` kept, by value, and the values
    listed that no row has (a misspelt skip_rows value left out nothing)."""
    # As `values` maps them: blanks around a value ignored, in the composed form; an empty cell
    # is '', which a filter may list.
    value = f"coalesce(nfc_normalize({text(ref)}), '')"
    among = f"{value} in ({', '.join(map(_composed, listed))})"
    stays = among if key == "keep_rows" else f"not {among}"
    con, held = job.con, export.name
    # Of the rows it is applied to: skip_rows after keep_rows, "1 of 10 rows" of a file whose
    # 10 rows hold 3 of its values read as a filter that missed 2.
    total = con.execute(f"select count(*) from {held} where {' and '.join(['true', *before])}").fetchone()[0]
    left_out_here = " and ".join([*before, f"not ({stays})"])
    left_out = con.execute(f"select {text(ref)}, count(*) from {held} where {left_out_here} "
                           "group by all order by count(*) desc, 1 nulls last").fetchall()
    found = {v for (v,) in con.execute(f"select distinct {value} from {held} where {among}").fetchall()}
    count = sum(n for _, n in left_out)
    job.left_out[name] = job.left_out.get(name, 0) + count
    by_value = ", ".join(f"{v!r} {n:,}" if v is not None else f"empty {n:,}" for v, n in left_out)
    # `before` is keep_rows's condition, when skip_rows follows it.
    of = (f"the {counted(total, 'row')} of {export.path.name} keep_rows kept" if before
          else f"{counted(total, 'row')} of {export.path.name}")
    note = (f"note: tables.{name}.{key} left out {count:,} of {of}" + (f", by {column}: {by_value}" if left_out else ""))
    if unfound := [v for v in dict.fromkeys(listed) if unicodedata.normalize("NFC", v) not in found]:
        note += f"; no row has {column} {', '.join(map(repr, unfound))}"
    job.notes.append(note)
    return stays


def _table(job: Job, name: str, spec: dict, given: Input, reads: set[str], default_tz: str, zone_given: bool,
           mapping_file: Path, i: int, encoding: Encoding, watched: bool) -> None:
    """Write the table `name` of the mapping; `watched`: whether contacts has a filter, whose
    people left out the tables of OF_A_CONTACT may have rows of (_keep_people)."""
    table = TABLES[name]
    where = f"tables.{name}"
    tz = check_timezone(spec.get("timezone", default_tz), f"{where}.timezone", str(mapping_file))
    fmt = spec.get("timestamp_format")
    times = Times(tz, check_format(fmt, f"{where}.timestamp_format", str(mapping_file))
                  if fmt else None, format_option=f"{where}.timestamp_format",
                  zone_given=zone_given or "timezone" in spec, zone_option="timezone")
    # A Salesforce report of an object the Salesforce importer does not read (Contacts,
    # Accounts, a custom object) is a usual mapping source: its footer is left out there too.
    export = job.export(given, f"_fp_src{i}", times, reads, delimiter=spec.get("delimiter"), report_footer=True,
                        encoding=encoding)
    columns = _str_map(spec.get("columns"), mapping_file, f"{where}.columns")
    constants = _str_map(spec.get("constants"), mapping_file, f"{where}.constants")
    values = spec.get("values") or {}
    stage_columns = _str_map(spec.get("stage_columns"), mapping_file, f"{where}.stage_columns")

    def find(source_column: str, role: str, field: str) -> str:
        ref = export.find(source_column)
        if ref is None:
            raise InputError(Problem(
                f"column '{source_column}' ({role}) not found in {export.path.name}; "
                f"it has: {', '.join(map(visible, export.names))}", file=str(mapping_file), field=field))
        return ref

    def source(canon: str, source_column: str, field: str | None = None) -> str:
        ref = find(source_column, f"mapped to {canon}", field or f"{where}.columns.{canon}")
        if table.column(canon).type == "timestamp":
            export.check_times(ref)
        return ref

    def value_of(canon: str, sql: str) -> str:
        sql = text(sql)
        value_map = _str_map(values.get(canon), mapping_file, f"{where}.values.{canon}")
        if value_map:
            whens = " ".join(f"when {_composed(k)} then {quote(v)}" for k, v in value_map.items())
            sql = f"(case nfc_normalize({sql}) {whens} else {sql} end)"
        if table.column(canon).type == "timestamp":
            sql = times.utc(sql)
        elif table.column(canon).type == "date":
            sql = times.date(sql)
        return sql

    kept = []  # SQL: each row filter's condition for a row to stay
    for key in ROW_FILTERS:
        if key in spec:
            column, listed = _row_filter(spec[key], mapping_file, f"{where}.{key}")
            ref = find(column, f"named in {key}", f"{where}.{key}.column")
            kept.append(_row_filter_sql(job, export, name, key, ref, column, listed, kept))
    if kept:
        # Before the columns are checked: the rows left out are not imported, so their values
        # are not checked, nor counted in the notes on the file's times.
        export = export.keeping(" and ".join(kept))
    select = {c: value_of(c, source(c, col)) for c, col in columns.items()}
    select.update({c: quote(v) for c, v in constants.items()})
    from_sql = rows = f"(select * from {export.name} where {export.kept})" if kept else export.name
    if stage_columns:
        if name != "lifecycle_events":
            raise InputError(Problem("stage_columns is only for lifecycle_events",
                                     file=str(mapping_file), field=f"{where}.stage_columns"))
        # Wide form: one row per filled stage date column.
        parts = []
        for stage, col in stage_columns.items():
            ref = source("occurred_at", col, f"{where}.stage_columns.{stage}")
            parts.append(f"select *, {quote(stage)} as _stage, {ref} as _at "
                         f"from {rows} where {text(ref)} is not null")
        from_sql = "(" + " union all ".join(parts) + ")"
        select["stage"] = value_of("stage", "_stage")
        select["occurred_at"] = value_of("occurred_at", "_at")
    missing = [c for c in table.required_columns if c not in select]
    if missing:
        raise InputError(Problem(
            f"required column '{missing[0]}' of {name} is not mapped; map "
            f"{', '.join(table.required_columns)} (columns, constants or stage_columns)",
            file=str(mapping_file), field=f"{where}.columns.{missing[0]}"))
    if not watched or name not in ("contacts", *OF_A_CONTACT):
        job.write(name, select, from_sql)
        return
    job.write(name, select, from_sql, keep_as="_fp_written")
    _keep_people(job, name, "_fp_written", export, select["contact_id"])
    job.drop("_fp_written")
