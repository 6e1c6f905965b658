"""Monthly volumes at the month boundaries of unusual zones, through `funnelpact run` (the
real job): six agreements, each in its own zone, read the same leads, placed a second
before, at and after every agreement's start and end of October 2023 (explicit +00:00
offsets), and web sessions on the local dates either side. Each agreement must count the
leads whose local month (UTC -> local, the only unambiguous direction) is the period.

Asunción skips midnight on 2023-10-01 (October begins at 01:00 -03); Lord Howe changes by 30
minutes that day at 02:00; Chatham is +12:45/+13:45; Kathmandu +05:45; Kiritimati +14 and
Etc/GMT+12 -12 put their boundaries 26 hours apart.
"""

from __future__ import annotations

import json
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.agreement.months import month_bounds_utc
from pipelines.cli import app
from tests.agreement.test_months_in_unusual_zones import oracle_zone

pytestmark = pytest.mark.slow  # the Dagster job

ZONES = {"asuncion": "America/Asuncion", "kathmandu": "Asia/Kathmandu", "kiritimati": "Pacific/Kiritimati",
         "gmt12": "Etc/GMT+12", "chatham": "Pacific/Chatham", "lordhowe": "Australia/Lord_Howe"}


def test_each_zone_counts_the_leads_of_its_local_months(tmp_path: Path, agreement_file, monkeypatch) -> None:
    sla, data, home = tmp_path / "sla", tmp_path / "data", tmp_path / ".funnelpact"
    sla.mkdir()
    data.mkdir()
    for name, zone in ZONES.items():
        agreement_file(sla, name, zone, "2023-09", "2023-10")
    # Placed from month_bounds_utc; counted below by the oracle's own reading of each instant.
    leads = [b + timedelta(seconds=d) for zone in ZONES.values() for b in month_bounds_utc("2023-10", zone)
             for d in (-1, 0, 1)]
    rows = [(f"C{i}", f"{t:%Y-%m-%dT%H:%M:%S}+00:00") for i, t in enumerate(leads)]
    (data / "contacts.csv").write_text("contact_id,created_at\n" + "".join(f"{c},{t}\n" for c, t in rows))
    (data / "lifecycle_events.csv").write_text("contact_id,stage,occurred_at\n"
                                               + "".join(f"{c},lead,{t}\n" for c, t in rows))
    (data / "web_sessions.csv").write_text("date,sessions\n2023-08-31,10000\n2023-09-30,1\n2023-10-01,10\n"
                                           "2023-10-31,100\n2023-11-01,1000\n")
    monkeypatch.setenv("FUNNELPACT_HOME", str(home))
    monkeypatch.setenv("FUNNELPACT_DUCKDB_PATH", str(home / "warehouse.duckdb"))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(app, ["run", "--data", str(data), "--sla", str(sla), "--as-of", "2023-11-02T00:00:00Z",
                                      "--from", "2023-09", "--to", "2023-10", "--format", "json"])
    assert result.exit_code in (0, 1), result.output  # 1: the tiny company breaches its targets
    got = {(r["agreement"], r["period"], r["kpi"]): r["actual"] for r in json.loads(result.stdout)["results"]}

    for name, zone in ZONES.items():
        local_months = [t.replace(tzinfo=UTC).astimezone(oracle_zone(zone)).strftime("%Y-%m") for t in leads]
        assert got[(name, "2023-09", "volume:lead")] == local_months.count("2023-09"), name
        assert got[(name, "2023-10", "volume:lead")] == local_months.count("2023-10"), name
        # web_sessions.date is a local date: September 30, and October 1 and 31, whatever the zone.
        assert (got[(name, "2023-09", "volume:visit")], got[(name, "2023-10", "volume:visit")]) == (1, 110), name
    # Each boundary splits its own zone's three leads 1 / 2 (before / at and after).
    assert got[("asuncion", "2023-09", "volume:lead")] != got[("gmt12", "2023-09", "volume:lead")]
