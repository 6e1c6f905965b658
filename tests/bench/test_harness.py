"""The benchmark harness's pure parts: statistics, the table, and the baseline's meaning.

The benchmarks themselves are not tests (timings on a shared machine are not assertions);
`python -m bench` also checks at every size that the baseline equals marts.funnel_volumes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from bench.baseline import run_baseline
from bench.stats import markdown_table, median, parse_size, ratio, size_label

SLA = Path(__file__).resolve().parents[2] / "sla"


def test_median_ignores_missing_samples():
    assert median([3.0, None, 1.0, 2.0]) == 2.0
    assert median([None]) is None


def test_ratio_of_nothing_is_unknown_not_zero():
    assert ratio(6.0, 2.0) == 3.0
    assert ratio(6.0, 0) is None
    assert ratio(None, 2.0) is None


@pytest.mark.parametrize("text, contacts", [("10k", 10_000), ("1m", 1_000_000), ("250", 250), ("1.5m", 1_500_000)])
def test_sizes_read_and_print_the_same_way(text, contacts):
    assert parse_size(text) == contacts
    assert parse_size(size_label(contacts)) == contacts


@pytest.mark.parametrize(("fraction", "text"), [(0.14, "+14 %"), (0.0, "+0 %"), (-0.104, "−10 %"), (None, "–")])
def test_a_change_is_signed_once(fraction, text):
    from bench.stats import fmt_change

    assert fmt_change(fraction) == text


def test_markdown_table_has_a_header_rule_and_one_line_per_row():
    assert markdown_table(["a", "b"], [["1", "2"]]).splitlines() == ["| a | b |", "|---|---|", "| 1 | 2 |"]


def write(path: Path, header: str, *rows: str) -> None:
    path.write_text("\n".join([header, *rows]) + "\n")


def test_baseline_counts_entries_in_local_months_with_skipped_stages_implied(tmp_path):
    """America/Mexico_City is UTC-6: 2026-02-01 03:00 UTC is still January there.

    c1: subscriber (lead) 01-10, salesqualifiedlead 02-01 03:00 UTC -> lead 01, mql and sql
        implied at the sql time, in January (local).
    c2: lead 02-05, mql 02-06, recycled 02-07, mql again 03-01 -> one mql entry, February.
    c3: lead 02-10, customer 03-05 -> lead 02; mql, sql, opportunity, customer implied 03.
    c9: an event of a contact that is not in contacts -> ignored; c3's unknown stage and its
        unparseable timestamp are skipped; c2's event after as_of is ignored.
    """
    write(tmp_path / "contacts.csv", "contact_id,created_at",
          "c1,2026-01-10 10:00:00", "c2,2026-02-05 10:00:00", "c3,2026-02-10 10:00:00")
    write(tmp_path / "lifecycle_events.csv", "contact_id,stage,occurred_at,reason",
          "c1,subscriber,2026-01-10 10:00:00,", "c1,salesqualifiedlead,2026-02-01 03:00:00,",
          "c2,lead,2026-02-05 10:00:00,", "c2,marketingqualifiedlead,2026-02-06 10:00:00,",
          "c2,recycled,2026-02-07 10:00:00,no_budget", "c2,marketingqualifiedlead,2026-03-01 10:00:00,",
          "c2,customer,2026-04-20 10:00:00,",
          "c3,lead,2026-02-10 10:00:00,", "c3,customer,2026-03-05 10:00:00,",
          "c3,evangelist,2026-01-01 10:00:00,", "c3,lead,2026-02-30 10:00:00,",
          "c9,lead,2026-01-02 10:00:00,")
    write(tmp_path / "web_sessions.csv", "date,channel,sessions",
          "2026-01-31,organic,5", "2026-02-01,organic,7", "2026-02-01,paid_search,1", "2026-04-16,organic,9")
    volumes = run_baseline(tmp_path, SLA, datetime(2026, 4, 15, 12, tzinfo=UTC))
    assert volumes == [
        ("2026-01", "lead", 1), ("2026-01", "mql", 1), ("2026-01", "sql", 1), ("2026-01", "visit", 5),
        ("2026-02", "lead", 2), ("2026-02", "mql", 1), ("2026-02", "visit", 8),
        ("2026-03", "customer", 1), ("2026-03", "mql", 1), ("2026-03", "opportunity", 1),
        ("2026-03", "sql", 1),
    ]


def test_the_page_is_rendered_from_results_with_both_start_up_figures(tmp_path):
    import json

    from bench.__main__ import main
    from bench.stats import fmt_seconds

    results = {
        "date": "2026-11-25T00:00:00+00:00", "repeats": 1,
        "machine": {"cpu": "cpu", "cores": 2, "memory_gib": 1.0, "python": "3.11", "duckdb": "x",
                    "load_average_at_start": 0.5},
        "startup": {"wall": 14.0, "startup": 8.0, "peak_rss_kib": 1024},
        "sizes": {"1m": {
            "rows": {"lifecycle_events": 10}, "generate": {"wall": 2.0}, "baseline": {"wall": 1.0},
            "full_run": {"wall": 20.0, "peak_rss_kib": 2048}, "backfill": {"wall": 18.0},
            "daily_run": {"wall": 16.0, "peak_rss_kib": 2048}, "baseline_matches_pipeline": True}},
    }
    (tmp_path / "results.json").write_text(json.dumps(results))
    page = tmp_path / "perf.md"
    page.write_text("# Perf\n\nkept above\n")
    main(["--render", "--json", str(tmp_path / "results.json"), "--out", str(page)])
    text = page.read_text()
    assert "kept above" in text
    assert f"| start-up ≤ 10 s | {fmt_seconds(8.0)} | yes |" in text
    # 3 x 1.0 + 8.0 = 11.0 against a full run of 20.0; with the whole fixed cost 17.0.
    assert f"{fmt_seconds(20.0)} vs {fmt_seconds(11.0)} | **no** |" in text
    assert f"{fmt_seconds(20.0)} vs {fmt_seconds(17.0)} | **no** |" in text


def test_the_daily_split_links_its_history_relatively_so_a_moved_cache_stays_whole(tmp_path):
    from bench.datasets import _complete, split_daily

    full = tmp_path / "made" / "full"
    full.mkdir(parents=True)
    with duckdb.connect() as con:
        for table, column in (("contacts", "created_at"), ("lifecycle_events", "occurred_at"),
                              ("activities", "occurred_at"), ("deals", "closed_at"), ("web_sessions", "date")):
            con.execute(f"copy (select * from (values ('2026-12-29 10:00:00', 'kept', null), "
                        f"('2026-12-30 10:00:00', 'new', null)) t({column}, note, created_at)) "
                        f"to '{full / table}.parquet' (format parquet)")
    split_daily(full, tmp_path / "made" / "daily", date(2026, 12, 30))
    moved = tmp_path / "moved"
    (tmp_path / "made").rename(moved)
    assert _complete(moved)
    with duckdb.connect() as con:
        notes = con.execute(f"select note from read_parquet('{moved}/daily/new/lifecycle_events/*.parquet') "
                            "order by note").fetchall()
    assert notes == [("kept",), ("new",)]
    (moved / "daily" / "history" / "deals" / "history.parquet").unlink()
    assert not _complete(moved)
