"""The synthetic company: deterministic, canonical, realistic enough, with planted defects."""

from __future__ import annotations

import csv
import hashlib
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.agreement import load_agreements
from pipelines.data.generate import generate
from pipelines.data.load import load_data_dir
from pipelines.data.tables import TABLES
from pipelines.errors import InputError

from .helpers import STAGE_VALUES, rows

N = 5_000
ROOT = Path(__file__).resolve().parents[2]


def csv_rows(path) -> list[list[str]]:
    with path.open(newline="") as f:
        return list(csv.reader(f))


def digests(path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.iterdir())}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen") / "a"
    summary = generate(out, contacts=N, seed=3)
    con = duckdb.connect()
    report = load_data_dir(out, con, STAGE_VALUES)
    # The loader keeps the CRM's values (subscriber, marketingqualifiedlead, …); the funnel
    # figures below read them as the acme agreement means them.
    (acme,) = load_agreements(ROOT / "sla" / "acme-2026-h1.yaml")
    con.execute("create table stage_values (value varchar, stage_id varchar)")
    con.executemany("insert into stage_values values (?, ?)", list(acme.stage_values().items()))
    con.execute("""create view events as
                   select e.contact_id, coalesce(v.stage_id, e.stage) as stage, e.occurred_at, e.reason
                   from raw.lifecycle_events e left join stage_values v on v.value = e.stage""")
    return out, summary, report, con


def test_same_seed_same_files_other_seed_other_files(tmp_path, generated):
    out, *_ = generated
    generate(tmp_path / "b", contacts=N, seed=3)
    generate(tmp_path / "c", contacts=N, seed=4)
    assert digests(tmp_path / "b") == digests(out)
    assert digests(tmp_path / "c") != digests(out)


def test_files_are_the_canonical_tables_with_their_columns(generated):
    out, summary, *_ = generated
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{t}.csv" for t in TABLES)
    for name, table in TABLES.items():
        assert csv_rows(out / f"{name}.csv")[0] == table.column_names
    # Every generated contact is loaded: the defects never touch contacts' content.
    assert rows(generated[3], "select count(*) from raw.contacts") == [(N,)]


def test_the_loader_finds_exactly_the_planted_defects(generated):
    _, summary, report, con = generated
    planted = dict(summary.planted)
    assert report.duplicate_rows == planted.pop("duplicate_rows")
    assert report.by_reason == planted
    assert set(planted) == {"bad_timestamp:occurred_at", "unknown_stage", "unknown_contact",
                            "negative_amount"}
    for name, read, loaded, dups, quarantined in rows(
            con, "select table_name, rows_read, rows_loaded, duplicate_rows, quarantined_rows "
                 "from raw.load_report"):
        assert read == loaded + dups + quarantined == summary.rows[name]


def test_crm_values_are_used_so_the_mapping_matters(generated):
    out, *_ = generated
    stages = {row[1] for row in csv_rows(out / "lifecycle_events.csv")[1:]}
    assert {"subscriber", "marketingqualifiedlead", "salesqualifiedlead", "Lead"} <= stages


def test_funnel_rates_are_near_the_agreement(generated):
    con = generated[3]
    entered = dict(rows(con, """
        select stage, count(distinct contact_id) from events group by stage"""))
    assert entered["lead"] == N
    assert 0.25 < entered["mql"] / N < 0.35
    # Entry into sql is implied by later stages too (skipped stages).
    sql_or_later = rows(con, """select count(distinct contact_id) from events
                               where stage in ('sql', 'opportunity', 'customer')""")[0][0]
    assert 0.35 < sql_or_later / entered["mql"] < 0.55
    assert 0.35 < entered["opportunity"] / sql_or_later < 0.6
    assert 0.15 < entered["customer"] / entered["opportunity"] < 0.4
    (avg_amount,) = rows(con, "select avg(amount) from raw.deals where status = 'won'")[0]
    assert 9_000 < avg_amount < 15_000
    assert {s for (s,) in rows(con, "select distinct status from raw.deals")} == {
        "open", "won", "lost"}


def test_recycled_leads_carry_a_reason_and_some_qualify_again(generated):
    con = generated[3]
    assert rows(con, "select count(*) from events where stage = 'recycled' "
                     "and reason is null") == [(0,)]
    (requalified,) = rows(con, """
        select count(*) from (select contact_id from events where stage = 'mql'
                              group by contact_id having count(*) > 1)""")[0]
    assert requalified > 0


def test_skipped_stages_exist(generated):
    con = generated[3]
    (skipped,) = rows(con, """
        select count(*) from (select contact_id from events group by contact_id
        having bool_or(stage = 'opportunity') and not bool_or(stage = 'sql'))""")[0]
    assert skipped > 0


def test_first_touch_is_mostly_within_hours_some_late_some_never(generated):
    con = generated[3]
    hours = rows(con, """
        with mql as (select contact_id, min(occurred_at) as at from events
                     where stage = 'mql' group by contact_id),
        touch as (select m.contact_id, min(a.occurred_at) as at from mql m
                  left join raw.activities a on a.contact_id = m.contact_id
                   and a.team = 'sales' and a.occurred_at >= m.at group by m.contact_id)
        select count(*) filter (where date_diff('minute', m.at, t.at) <= 240) / count(*),
               count(*) filter (where date_diff('minute', m.at, t.at) > 240) / count(*),
               count(*) filter (where t.at is null) / count(*)
        from mql m join touch t using (contact_id)""")[0]
    within, late, never = hours
    assert 0.7 < within < 0.97
    assert late > 0.02
    assert 0.01 < never < 0.15


def test_weekdays_outnumber_weekends_and_sessions_follow_leads(generated):
    con = generated[3]
    weekday, weekend = rows(con, """
        select count(*) filter (where isodow(created_at - interval 6 hour) <= 5) / 5,
               count(*) filter (where isodow(created_at - interval 6 hour) > 5) / 2
        from raw.contacts""")[0]
    assert weekday > 2 * weekend
    (sessions,) = rows(con, "select sum(sessions) from raw.web_sessions")[0]
    assert 0.015 < N / sessions < 0.025
    assert rows(con, "select min(date)::varchar, max(date)::varchar from raw.web_sessions") == [
        ("2026-01-01", "2026-12-31")]


def test_events_rows_are_not_in_time_order(generated):
    con = generated[3]
    out = generated[0]
    times = [row[2] for row in csv_rows(out / "lifecycle_events.csv")[1:200]]
    assert times != sorted(times)
    assert rows(con, "select max(occurred_at) < timestamp '2027-01-01 06:00:00' "
                     "from raw.lifecycle_events") == [(True,)]


def test_parquet_gives_the_same_rows_as_csv(tmp_path, generated):
    _, _, csv_report, _ = generated
    generate(tmp_path / "pq", contacts=N, seed=3, fmt="parquet")
    assert sorted(p.name for p in (tmp_path / "pq").iterdir()) == sorted(
        f"{t}.parquet" for t in TABLES)
    report = load_data_dir(tmp_path / "pq", duckdb.connect(), STAGE_VALUES)

    def counts(r):
        return {k: (t.rows_read, t.rows_loaded, t.duplicate_rows, t.quarantined_rows)
                for k, t in r.tables.items()}

    assert counts(report) == counts(csv_report)
    assert report.by_reason == csv_report.by_reason


def test_window_and_arguments(tmp_path):
    summary = generate(tmp_path / "w", contacts=300, seed=1, start=date(2026, 7, 1),
                       end=date(2026, 9, 30))
    con = duckdb.connect()
    load_data_dir(tmp_path / "w", con, STAGE_VALUES)
    assert summary.rows["web_sessions"] == 92 * 5
    lo, hi = rows(con, "select min(created_at), max(created_at) from raw.contacts")[0]
    assert lo.date() >= date(2026, 7, 1) and hi.date() <= date(2026, 10, 1)
    with pytest.raises(InputError, match="before start"):
        generate(tmp_path / "x", contacts=10, start=date(2026, 2, 1), end=date(2026, 1, 1))
    with pytest.raises(InputError, match="at least 1"):
        generate(tmp_path / "x", contacts=0)
