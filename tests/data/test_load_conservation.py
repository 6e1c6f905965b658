"""Nothing is lost: seeded random data directories with corruptions mixed in, loaded and
checked against counts built here in plain Python from what was written.

Every value is drawn from a pool that says what the loader must make of it (fine, or which
rule it breaks), so the expected quarantine follows from the documented order of the rules
(docs/data.md, Loading and quarantine) without parsing anything again. For every table:
rows written = rows loaded + rows quarantined + exact duplicates, and each quarantined row is
the one (file, row number) the corruption went into, with its reason.
"""

from __future__ import annotations

import csv
import io
import random
from collections import Counter
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.data.load import load_data_dir

from .helpers import STAGE_VALUES

# kind -> (values that load, values that break a rule -> the rule's reason prefix)
TIMES = ["2026-01-05T10:00:00Z", "2026-01-05 10:00:00", "2026-01-05T10:00:00.250-05:30", "2026-01-05",
         "2026-03-01T00:00:00+02:00", "2026-02-28T23:59:59+0530", "2026-06-30 23:59"]
BAD_TIMES = ["2026-02-30", "05/01/2026", "2026-01-05 10:00 PST", "2026-01-05T10:00:00+99:00", "not a date"]
DATES, BAD_DATES = ["2026-01-01", "2024-02-29"], ["2026/01/01", "2026-1-1", "2026-01-01 10:00:00", "2025-02-29"]
AMOUNTS, BAD_AMOUNTS, NEGATIVE_AMOUNTS = ["12000", "12000.50", "1.2e4", "0", "-0"], ["12,000", "$5", "1_000"], \
    ["-5", "-0.0000004"]
COUNTS, BAD_COUNTS, NEGATIVE_COUNTS = ["120", "120.0", "0"], ["3.5", "1e2", "x"], ["-3"]
STAGES = ["lead", "LEAD", "Mql", "MarketingQualifiedLead", "recycled", "Disqualified", "subscriber", "customer"]
BAD_STAGES = ["evangelist", "léad"]
TEXT = ["organic", "José", "客户", "a,b", 'say "hi"', "line\nbreak", "x" * 3000]
BLANKS = [" ", "\t", "\u00a0", "\n"]

# column -> (kind, required); kinds below
SCHEMA = {
    "contacts": {"contact_id": ("id", True), "created_at": ("time", True), "source": ("text", False),
                 "persona": ("text", False), "seniority": ("text", False), "country": ("text", False)},
    "lifecycle_events": {"contact_id": ("contact", True), "stage": ("stage", True),
                         "occurred_at": ("time", True), "reason": ("text", False)},
    "activities": {"activity_id": ("id", True), "contact_id": ("contact", True), "occurred_at": ("time", True),
                   "team": ("team", True), "type": ("text", False)},
    "deals": {"deal_id": ("id", True), "contact_id": ("text", False), "created_at": ("time", True),
              "closed_at": ("time", False), "status": ("status", True), "amount": ("amount", True),
              "currency": ("text", False)},
    "web_sessions": {"date": ("date", True), "channel": ("text", False), "sessions": ("count", True)},
}
POOLS = {  # kind -> (good, bad, reason of bad, negative, reason of negative)
    "time": (TIMES, BAD_TIMES, "bad_timestamp", [], ""),
    "date": (DATES, BAD_DATES, "bad_date", [], ""),
    "amount": (AMOUNTS, BAD_AMOUNTS, "bad_number", NEGATIVE_AMOUNTS, "negative_amount"),
    "count": (COUNTS, BAD_COUNTS, "bad_number", NEGATIVE_COUNTS, "negative_sessions"),
    "stage": (STAGES, BAD_STAGES, "unknown_stage", [], ""),
    "team": (["sales", "Sales", "MARKETING"], ["support"], "invalid_value", [], ""),
    "status": (["open", "Won", "LOST"], ["closed"], "invalid_value", [], ""),
}
KEYS = {"contacts": "contact_id", "activities": "activity_id", "deals": "deal_id"}
# The order in which a row's rules are judged; its first broken one is its reason.
PARSED, ALLOWED = ("time", "date", "amount", "count"), ("team", "status", "stage")


def value(rng: random.Random, kind: str, contacts: list[str], broken: float) -> str | None:
    if kind == "contact":
        return rng.choice(contacts) if rng.random() > broken else f"nobody-{rng.randrange(99)}"
    if kind == "text":
        return rng.choice(TEXT) if rng.random() < 0.7 else None
    good, bad, _, negative, _ = POOLS[kind]
    draw = rng.random()
    return rng.choice(bad) if draw < broken else rng.choice(negative) if negative and draw < 2 * broken \
        else rng.choice(good)


def padded(rng: random.Random, text: str | None) -> str | None:
    """Blanks around a value are no part of it."""
    if text is not None and rng.random() < 0.3:
        return rng.choice(BLANKS) + text if rng.random() < 0.5 else text + rng.choice(BLANKS)
    return text


def table_rows(rng: random.Random, name: str, n: int, contacts: list[str], broken: float = 0.08) -> list[dict]:
    rows = []
    for i in range(n):
        row = {}
        for column, (kind, required) in SCHEMA[name].items():
            text = contacts[i] if name == "contacts" and kind == "id" else \
                f"{name[0]}{i}" if kind == "id" else value(rng, kind, contacts, broken)
            if required and rng.random() < broken / 3:
                text = rng.choice([None, "", " \t"])  # missing, however it is written
            row[column] = padded(rng, text)
        rows.append(row)
    for _ in range(len(rows) // 10):  # exact duplicates, some differing only in blanks
        copy = {c: padded(rng, v.strip()) if v else v for c, v in rng.choice(rows).items()}
        rows.insert(rng.randrange(len(rows) + 1), copy)
    if name in KEYS and rows:  # an id repeated with different content
        for _ in range(max(1, len(rows) // 15)):
            copy = dict(rng.choice(rows))
            column = rng.choice([c for c in SCHEMA[name] if c != KEYS[name]])
            kind = SCHEMA[name][column][0]
            copy[column] = f"changed-{rng.randrange(10**6)}" if kind == "text" else value(rng, kind, contacts, 0)
            rows.insert(rng.randrange(len(rows) + 1), copy)
    return rows


def clean(text: str | None) -> str | None:
    return (text.strip() or None) if text is not None else None


def first_broken_rule(name: str, row: dict[str, str | None]) -> str | None:
    columns = SCHEMA[name].items()
    for column, (kind, required) in columns:
        if required and row[column] is None:
            return f"missing_required:{column}"
    for stage in (PARSED, ALLOWED):
        for column, (kind, _) in columns:
            if kind in stage and row[column] in POOLS[kind][1]:
                reason = POOLS[kind][2]
                return reason if kind == "stage" else f"{reason}:{column}"
    for column, (kind, _) in columns:
        if kind in POOLS and row[column] in POOLS[kind][3]:
            return POOLS[kind][4]
    return None


def expected(written: dict[str, list[tuple[str, int, dict]]]) -> dict[str, dict]:
    """Per table: rows read, loaded and duplicated, and the quarantine as (file, row, reason)."""
    out, loaded_contacts = {}, set()
    for name, rows in written.items():  # contacts first, as the loader checks against them
        first: dict[tuple, tuple[str, int]] = {}
        for file, number, row in rows:
            first.setdefault(tuple(clean(row.get(c)) for c in SCHEMA[name]), (file, number))
        reasons = {key: first_broken_rule(name, dict(zip(SCHEMA[name], key))) for key in first}
        if name in KEYS:
            at = list(SCHEMA[name]).index(KEYS[name])
            versions = Counter(key[at] for key, reason in reasons.items() if reason is None)
            reasons = {key: "conflicting_duplicate_id" if reason is None and versions[key[at]] > 1 else reason
                       for key, reason in reasons.items()}
        if SCHEMA[name].get("contact_id") == ("contact", True):
            at = list(SCHEMA[name]).index("contact_id")
            reasons = {key: "unknown_contact" if reason is None and key[at] not in loaded_contacts else reason
                       for key, reason in reasons.items()}
        if name == "contacts":
            loaded_contacts = {key[0] for key, reason in reasons.items() if reason is None}
        out[name] = {"read": len(rows), "loaded": sum(r is None for r in reasons.values()),
                     "duplicates": len(rows) - len(first),
                     "quarantine": sorted((*first[key], reason) for key, reason in reasons.items() if reason)}
    return out


def write_csv(path: Path, columns: list[str], rows: list[dict], rng: random.Random) -> None:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator=rng.choice(["\n", "\r\n"]),
                        quoting=rng.choice([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    writer.writerow([c.upper() if rng.random() < 0.2 else c for c in columns])
    writer.writerows([["" if row.get(c) is None else row[c] for c in columns] for row in rows])
    path.write_bytes((b"\xef\xbb\xbf" if rng.random() < 0.3 else b"") + text.getvalue().encode())


def write_parquet(path: Path, columns: list[str], rows: list[dict]) -> None:
    pq.write_table(pa.table({c: pa.array([row.get(c) for row in rows], pa.string()) for c in columns}), path)


def write_table(data: Path, name: str, rows: list[dict], rng: random.Random) -> list[tuple[str, int, dict]]:
    """Write `rows` as CSV, Parquet or a folder of Parquet parts, with optional columns left
    out and an extra column; returns (file, row number, row) as the load should see them."""
    columns = [c for c, (_, required) in SCHEMA[name].items() if required or rng.random() < 0.8] + ["extra"]
    rng.shuffle(columns)
    rows = [{**{c: row.get(c) for c in columns if c != "extra"}, "extra": rng.choice(TEXT)} for row in rows]
    seen = [{c: row.get(c) for c in SCHEMA[name]} for row in rows]
    layout = rng.choice(["csv", "parquet", "folder"])
    if layout == "csv":
        write_csv(data / f"{name}.csv", columns, rows, rng)
        return [(f"{name}.csv", i + 1, row) for i, row in enumerate(seen)]
    if layout == "parquet":
        write_parquet(data / f"{name}.parquet", columns, rows)
        return [(f"{name}.parquet", i + 1, row) for i, row in enumerate(seen)]
    (data / name).mkdir()
    cut = rng.randrange(len(rows) + 1)
    write_parquet(data / name / "part-0.parquet", columns, rows[:cut])
    write_parquet(data / name / "part-1.parquet", columns, rows[cut:])
    return [(f"{name}/part-{int(i >= cut)}.parquet", i + 1 - (cut if i >= cut else 0), row)
            for i, row in enumerate(seen)]


def assert_load_matches(report, con, written) -> None:
    quarantine = con.execute("select table_name, source_file, row_number, reason from raw.quarantine").fetchall()
    for name, want in expected(written).items():
        counts = report.tables[name]
        assert (counts.rows_read, counts.rows_loaded, counts.duplicate_rows, counts.quarantined_rows) == (
            want["read"], want["loaded"], want["duplicates"], len(want["quarantine"])), name
        assert sorted(q[1:] for q in quarantine if q[0] == name) == want["quarantine"], name
        assert con.execute(f"select count(*) from raw.{name}").fetchone()[0] == want["loaded"], name


@pytest.mark.parametrize("seed", range(12))
def test_every_row_read_is_loaded_quarantined_with_its_reason_or_a_counted_duplicate(tmp_path, seed):
    rng = random.Random(seed)
    data = tmp_path / "data"
    data.mkdir()
    contacts = [f"{rng.choice(['C', 'c', 'Ç'])}{i}" for i in range(rng.randrange(5, 40))]
    written = {}
    for name in SCHEMA:
        if name in ("contacts", "lifecycle_events") or rng.random() < 0.8:
            n = len(contacts) if name == "contacts" else rng.randrange(0, 50)
            written[name] = write_table(data, name, table_rows(rng, name, n, contacts), rng)
    with duckdb.connect() as con:
        assert_load_matches(load_data_dir(data, con, STAGE_VALUES), con, written)


@pytest.mark.parametrize("seed", range(6))
def test_a_day_appended_as_new_parts_counts_every_row_once(tmp_path, seed):
    """The history and the new day together, whether the load appended or reloaded in full."""
    rng = random.Random(seed)
    data = tmp_path / "data"
    contacts = [f"C{i}" for i in range(rng.randrange(5, 30))]
    newcomers = [f"N{i}" for i in range(rng.randrange(0, 8))]
    columns = {name: list(SCHEMA[name]) for name in SCHEMA}
    written: dict[str, list] = {}
    for name in SCHEMA:
        (data / name).mkdir(parents=True)
        rows = table_rows(rng, name, len(contacts) if name == "contacts" else rng.randrange(0, 30), contacts)
        write_parquet(data / name / "day-1.parquet", columns[name], rows)
        written[name] = [(f"{name}/day-1.parquet", i + 1, row) for i, row in enumerate(rows)]
    with duckdb.connect() as con:
        assert_load_matches(load_data_dir(data, con, STAGE_VALUES), con, written)
        for name in SCHEMA:
            if name == "contacts":
                rows = [{"contact_id": c, "created_at": rng.choice(TIMES)} for c in newcomers]
            else:
                rows = table_rows(rng, name, rng.randrange(0, 12), contacts + newcomers, broken=0.05)
                repeat = rng.random() < 0.3  # its first row keeps its id: a clash with day 1's
                for i, row in enumerate(rows):  # new rows, as a day's export has: new ids, new text
                    if name in KEYS and clean(row[KEYS[name]]) and not (repeat and i == 0):
                        row[KEYS[name]] = f"{row[KEYS[name]]}-day-2-{i}"
                    elif name not in KEYS and rng.random() < 0.9:
                        row["reason" if name == "lifecycle_events" else "channel"] = f"day-2-{i}"
            write_parquet(data / name / "day-2.parquet", columns[name], rows)
            written[name] += [(f"{name}/day-2.parquet", i + 1, row) for i, row in enumerate(rows)]
        assert_load_matches(load_data_dir(data, con, STAGE_VALUES), con, written)
