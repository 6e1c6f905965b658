"""int_agreement_months_as_of's days elapsed equals months.days_elapsed (and the oracle of
tests/agreement/test_months_in_unusual_zones.py) at the odd instants of zones whose clocks skip
or repeat midnight, skip a whole date, or change by 30 minutes or 2 hours.

One dbt run builds the model; its compiled SQL is then run again at each instant (the as-of
is a literal in it), so the many instants cost no more dbt runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.agreement import load_agreements
from pipelines.agreement.months import days_elapsed
from pipelines.warehouse.agreement_tables import write_agreement_tables
from tests.agreement.test_months_in_unusual_zones import instants, oracle_days_elapsed

pytestmark = pytest.mark.slow  # dbt

CASES = [("America/Asuncion", "2023-10"), ("America/Havana", "2020-11"), ("Asia/Beirut", "2024-03"),
         ("America/Toronto", "1919-03"), ("Australia/Lord_Howe", "2026-04"), ("Antarctica/Troll", "2026-10"),
         ("Pacific/Chatham", "2026-04"), ("Pacific/Kiritimati", "1994-12"), ("Pacific/Apia", "2011-12")]
BUILT_AS_OF = "2000-01-01 00:00:00"


def test_the_warehouse_counts_the_days_elapsed_as_python_does(warehouse, tmp_path: Path, agreement_file) -> None:
    agreements = []
    for i, (zone, period) in enumerate(CASES):
        folder = tmp_path / "sla" / str(i)
        folder.mkdir(parents=True)
        agreements += load_agreements(agreement_file(folder, f"a{i}", zone, period, period))
    with warehouse.connect() as con:
        write_agreement_tables(con, agreements)
    warehouse.dbt("run", as_of=BUILT_AS_OF, select=["stg_agreement__months", "stg_agreement__days",
                                                    "int_agreement_months_as_of"])
    (compiled,) = (warehouse.tmp / "target" / "compiled").rglob("int_agreement_months_as_of.sql")
    sql = compiled.read_text()
    literal = f"cast('{BUILT_AS_OF}' as timestamp)"
    assert literal in sql
    checked = 0
    with warehouse.connect(read_only=True) as con:
        for i, (zone, period) in enumerate(CASES):
            for as_of in instants(zone, period):
                at = f"cast('{as_of:%Y-%m-%d %H:%M:%S}' as timestamp)"
                rows = con.execute(f"select days_elapsed from ({sql.replace(literal, at)}) "
                                   "where agreement = ? and period = ?", [f"a{i}", period]).fetchall()
                expected = oracle_days_elapsed(zone, period, as_of)
                assert days_elapsed(period, zone, as_of) == pytest.approx(expected, abs=1e-12)
                if not rows:  # a month not yet begun has no row
                    assert expected == 0.0, (zone, as_of)
                    continue
                assert rows[0][0] == pytest.approx(expected, abs=1e-9), (zone, period, as_of)
                checked += 1
    assert checked > 50
