"""When a load may append the new files of a data directory instead of reloading it.

A daily export adds files (Parquet parts) to each table's folder; reloading the whole
directory made the daily run's cost grow with the length of the history (bench/,
docs/performance.md). Each load records what it read: `raw.load_files` (every file's path
as listed in the data directory, its size, modification and status-change times and inode)
and `raw.load_state` (the loader version and the lifecycle values it knew). The
next load appends only the new files, and only when the result is provably what a full
reload would give:

- every file loaded before is still there, unchanged (another directory's files are other
  files: other inodes); no table appeared or vanished; the loader version and the known
  lifecycle values are the same (a value a revision now lists brings back the events
  quarantined as `unknown_stage` for it; one no revision lists any more quarantines them);
- no new row shares an id with a row loaded or quarantined before, or equals one (across
  old and new files, a repeated id quarantines every version and an exact copy counts as a
  duplicate of the first: old rows would change);
- no new contact is one that earlier events or activities were quarantined for
  (`unknown_contact`; a deal keeps any contact_id).

Anything else is a full reload, and the load report says why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pipelines.data.row_sql import record_json, rows_table, text_column, typed_select
from pipelines.data.sources import Source, ident
from pipelines.data.tables import TABLES, Table
from pipelines.errors import InputError, Problem

# Bump when the loader's rules change: a warehouse loaded by other rules is reloaded in full.
# 2: timestamps must be ISO 8601 as a whole (trailing text was ignored).
# 3: a won or lost deal needs closed_at.
# 4: blanks are what str.strip() removes, and removed before duplicates are found; counts
#    read from their digits; dates YYYY-MM-DD only; offsets within ±14:00 and instants in
#    the years 0001-9999; amounts judged negative before rounding, no '_'; Parquet parts
#    must agree on their columns; raw.load_files keys files by their listed path and
#    records ctime and inode.
# 5: a deal of a contact that contacts does not hold is loaded, not unknown_contact; a won
#    or lost deal without closed_at is loaded (3 quarantined it); amounts are
#    decimal(26,6), not rounded to cents.
# 6: lifecycle_events.stage is the value as read (trimmed, lower-cased), not the stage id one
#    map for every revision gave it: each revision maps it in dbt; load_state records the
#    known values, not that map.
# 7: lifecycle_events.stage is also in Unicode's composed form (NFC), lower-cased as DuckDB
#    does it for the known values too ('ΠΕΛΑΤΗΣ' is 'πελατησ').
LOADER_VERSION = 7

# A file as listed, relative to the data directory (a link is a file of its own: a new link
# to a file loaded before is a new file), and the size, mtime_ns, ctime_ns and inode of what
# it reads. A file rewritten in place with its size and mtime put back still has a new ctime
# (utime cannot set it); one replaced by a rename has a new inode. The data directory itself
# is not recorded: a daily export may be a new directory that links the earlier parts
# (bench/datasets.py), and another directory's own files have other inodes.
FileStamp = tuple[str, int, int, int, int]


@dataclass(frozen=True)
class Increment:
    """The new files per table (tables without new files are left as they are)."""

    new_files: dict[str, tuple[str, ...]]  # paths relative to the data directory

    @property
    def file_count(self) -> int:
        return sum(len(files) for files in self.new_files.values())


def stamps(data_dir: Path, sources: dict[str, Source | None]) -> dict[str, list[FileStamp]]:
    """What each present table is read from, as recorded in raw.load_files."""
    out = {}
    for name, source in sources.items():
        if source is not None:
            out[name] = []
            for listed, path in zip(source.relative(data_dir), source.paths):
                try:
                    stat = path.stat()  # follows a link: what is read
                except OSError as exc:  # a link whose target is gone, a file removed meanwhile
                    raise InputError(Problem(f"cannot read the file ({exc.strerror}): expected a readable "
                                             "file (a link whose target is gone?)", file=str(path))) from None
                out[name].append((listed, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino))
    return out


def plan_increment(con, current: dict[str, list[FileStamp]], known: list[str]
                   ) -> Increment | str:
    """The new files to append, or why the load must be a full reload."""
    previous = _previous(con)
    if isinstance(previous, str):
        return previous
    files, previous_known = previous
    if previous_known != known:
        return "the agreements know other lifecycle stage values"
    new: dict[str, tuple[str, ...]] = {}
    for name in TABLES:
        before, now = files.get(name), current.get(name)
        if (before is None) != (now is None):
            return f"table '{name}' {'appeared' if before is None else 'is gone'} since the last load"
        if now is None:
            continue
        now_by_path = {stamp[0]: stamp for stamp in now}
        for stamp in before:
            if now_by_path.get(stamp[0]) != stamp:
                what = "is gone" if stamp[0] not in now_by_path else "changed"
                return f"{stamp[0]} {what} since the last load"
        seen = {stamp[0] for stamp in before}
        added = tuple(stamp[0] for stamp in now if stamp[0] not in seen)
        if added:
            new[name] = added
    return Increment(new)


def _previous(con) -> tuple[dict[str, list[FileStamp]], list[str]] | str:
    """What the last load recorded, or why there is nothing to compare with."""
    present = {r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'raw'").fetchall()}
    if not {"load_files", "load_state", "load_report", "quarantine"} <= present:
        return "no earlier load of this warehouse recorded what it read"
    # The version first: other versions recorded other columns.
    version = con.execute("select loader_version from raw.load_state").fetchall()
    if len(version) != 1:
        return "no earlier load of this warehouse recorded what it read"
    if version[0][0] != LOADER_VERSION:
        return "the warehouse was loaded by another version of the loader"
    (known,) = con.execute("select stage_values from raw.load_state").fetchone()
    files: dict[str, list[FileStamp]] = {}
    for table, *stamp in con.execute(
            "select table_name, path, size, mtime_ns, ctime_ns, inode from raw.load_files "
            "order by all").fetchall():
        files.setdefault(table, []).append(tuple(stamp))
    return files, json.loads(known)


def record(con, current: dict[str, list[FileStamp]], known: list[str]) -> None:
    """Write what this load read (inside the load's transaction)."""
    con.execute("create or replace table raw.load_files (table_name varchar, path varchar, "
                "size bigint, mtime_ns bigint, ctime_ns bigint, inode ubigint)")
    rows = [(name, *stamp) for name, table_stamps in current.items() for stamp in table_stamps]
    if rows:
        # One statement of six lists: executemany inserts row by row, ~0.5 ms each, and a data
        # directory of daily parts lists more files every day (1,500 files took 0.8 s).
        con.execute("insert into raw.load_files select unnest(?), unnest(?), unnest(?), unnest(?), "
                    "unnest(?), unnest(?)", [list(column) for column in zip(*rows)])
    con.execute("create or replace table raw.load_state (loader_version integer, stage_values varchar)")
    con.execute("insert into raw.load_state values (?, ?)", [LOADER_VERSION, json.dumps(known)])


def conflict(con, table: Table) -> str | None:
    """Why the prepared new rows of `table` cannot simply be appended."""
    rows = rows_table(table)
    if table.unique_key:
        key = text_column(table.unique_key)
        clash = con.execute(f"""
            select {key} from {rows}
            where {key} in (select {ident(table.unique_key)} from raw.{table.name})
               or {key} in (select json_extract_string(record, '$.{table.unique_key}')
                            from raw.quarantine where table_name = '{table.name}')
            limit 1
        """).fetchone()
        if clash:
            return f"a new {table.name} row repeats the id {clash[0]!r} of an earlier one"
    else:
        # Without an id, an exact copy of an earlier row is a duplicate of it.
        same = " and ".join(f"old.{ident(c)} is not distinct from new.{ident(c)}" for c in table.column_names)
        typed = f"select {typed_select(table)} from {rows} where _reason is null"
        if con.execute(f"select 1 from ({typed}) new, raw.{table.name} old where {same} limit 1").fetchone():
            return f"a new {table.name} row repeats an earlier one"
    # Every new row, not only those with a reason yet: a copy of an earlier `unknown_contact`
    # row is valid until _load_table checks its contact, and a full reload counts it as a
    # duplicate of that row.
    if con.execute(f"""
            select 1 from {rows}
            where {record_json(table)} in (
                select record from raw.quarantine where table_name = '{table.name}')
            limit 1""").fetchone():
        return f"a new {table.name} row repeats an earlier quarantined one"
    return None


def revived_contacts(con, contacts: Table) -> str | None:
    """Why new contacts cannot be appended: earlier rows were quarantined for lacking them."""
    contact_id = text_column("contact_id")
    hit = con.execute(f"""
        select {contact_id} from {rows_table(contacts)}
        where _reason is null and {contact_id} in (
            select json_extract_string(record, '$.contact_id') from raw.quarantine
            where reason = 'unknown_contact')
        limit 1
    """).fetchone()
    return f"earlier rows were quarantined for the contact {hit[0]!r}, which is new" if hit else None
