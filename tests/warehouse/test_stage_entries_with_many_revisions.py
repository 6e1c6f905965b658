"""int_stage_entries with many short revisions: the work follows the events of the contacts
active in each revision's months, not every event times every revision.

An agreement revised every month (36 one-month revisions, 2024-01..2026-12) and contacts
whose few events lie in one or two months. Each revision knows every value, so joining all
lifecycle events to every revision that knows their value (what the model did) makes
events x revisions rows before keeping the contacts active in the window; the model now
finds those contacts from the events inside each window first, then joins their events
only. The rows are checked against a plain Python reading of SPEC section 3, and the
largest intermediate result of the query (DuckDB's profile) against the events.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from pipelines.agreement.months import add_months

from . import raw_data

AS_OF = "2027-01-01 00:00:00"
FIRST, MONTHS = "2024-01", 36
STAGES = [s for s, _ in raw_data.DEFAULT_STAGES]  # visit first: no event means it, but it is entered
# contact -> events (stage, UTC time): one or two months each; c0 also has an event after as-of
CONTACTS = {
    f"c{n}": [
        ("lead", datetime(2024 + n % 3, 1 + n % 12, 3, 10) + timedelta(hours=n)),
        *([("mql", datetime(2024 + n % 3, 1 + n % 12, 20, 10))] if n % 2 else []),
        *([("opportunity", datetime(2024 + n % 3, 1 + n % 12, 25) + timedelta(days=10))] if n % 3 == 0 else []),
        *([("recycled", datetime(2024 + n % 3, 1 + n % 12, 26))] if n % 5 == 0 else []),
    ]
    for n in range(60)
}
CONTACTS["c0"].append(("customer", datetime(2027, 2, 1)))


def _periods() -> list[str]:
    return [add_months(FIRST, k) for k in range(MONTHS)]


def _build(warehouse) -> None:
    with warehouse.connect() as con:
        for period in _periods():
            raw_data.utc_revision(con, "acme", period, [period])
        raw_data.insert(con, "contacts", [(c, "2024-01-01 00:00:00", "organic", None, None, "US") for c in CONTACTS])
        raw_data.insert(con, "lifecycle_events", [
            (c, stage, at, None) for c, events in CONTACTS.items() for stage, at in events])
        raw_data.load_report(con, absent=["activities", "deals", "web_sessions"])
    warehouse.dbt("run", as_of=AS_OF, select=["+int_stage_entries"])


def _expected() -> set[tuple]:
    """SPEC section 3 per revision: a contact with a stage event inside the revision's month
    gets, for each stage up to its furthest, the earliest event of that stage or a later one."""
    as_of = datetime.fromisoformat(AS_OF)
    rows = set()
    for period in _periods():
        start = datetime.fromisoformat(period + "-01")
        end = datetime.fromisoformat(add_months(period, 1) + "-01")
        for contact, events in CONTACTS.items():
            known = [(STAGES.index(s), at) for s, at in events if s in STAGES and at <= as_of]
            if not any(start <= at < end for _, at in known):
                continue
            for position in range(max(p for p, _ in known) + 1):
                entered = min(at for p, at in known if p >= position)
                rows.add((period, contact, STAGES[position], position, entered))
    return rows


def _largest_intermediate(node: dict) -> int:
    own = int(node.get("intermediate_rows") or 0)
    children = node.get("children", []) + node.get("operator", [])  # the root holds "operator"
    return max([own, *(_largest_intermediate(c) for c in children)])


@pytest.mark.slow
def test_many_one_month_revisions_give_the_spec_entries_without_events_times_revisions(warehouse):
    _build(warehouse)
    got = {
        (r["revision"], r["contact_id"], r["stage_id"], r["stage_position"], r["entered_at"])
        for r in warehouse.query("select * from intermediate.int_stage_entries")
    }
    assert got == _expected()

    compiled = (warehouse.tmp / "target/compiled/funnelpact/models/intermediate/int_stage_entries.sql").read_text()
    profile = warehouse.tmp / "profile.json"
    with warehouse.connect() as con:
        con.execute("pragma enable_profiling = 'json'")
        con.execute(f"pragma profiling_output = '{profile}'")
        con.execute(f"create temp table entries as {compiled}")
        con.execute("pragma disable_profiling")
    largest = _largest_intermediate(json.loads(profile.read_text()))
    events = sum(len(e) for e in CONTACTS.values())
    # events x revisions would be ~36 times the events; each contact is active in one or two
    # revisions and reaches at most 5 stages, so no step needs 10 rows per event.
    # At least the events are read: a profile whose key for rows was renamed would read 0.
    assert events <= largest <= 10 * events, (largest, events)
