"""One real warehouse for the report tests: synthetic company -> the Dagster job -> judged months.

Built once per session (about 25 s): 3,000 contacts of the deterministic generator, the job
over 2026-01..2026-11 as of 2026-11-25 with the agreements in sla/ (H1 and H2 revisions),
so 2026-10 is a closed month of H2 and 2026-11 an open one. The job itself judges
(Great Expectations -> judgements.kpi_status): the report tests read what it wrote.

One more pack is built from it: the closed month's with two agreements (`several_report`).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.settings import Settings

REPO = Path(__file__).resolve().parents[2]
AS_OF = datetime(2026, 11, 25, tzinfo=UTC)
FIRST, LAST = "2026-01", "2026-11"
CLOSED, OPEN = "2026-10", "2026-11"


@pytest.fixture(scope="session")
def judged(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from pipelines.agreement.months import month_range
    from pipelines.data.generate import generate
    from pipelines.defs.execute import run_job

    root = tmp_path_factory.mktemp("report")
    settings = Settings(sla_dir=REPO / "sla", data_dir=root / "data", warehouse=root / ".funnelpact" / "warehouse.duckdb",
                        home=root / ".funnelpact")
    generate(settings.data_dir, contacts=3000, seed=7)
    outcome = run_job(settings, FIRST, LAST, AS_OF, ephemeral=True)
    assert outcome.success, outcome.failure
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        judged_months = {p for (p,) in con.execute("select distinct period from judgements.kpi_status").fetchall()}
    assert judged_months == set(month_range(FIRST, LAST)), "the job judges every month it ran"
    return settings


@pytest.fixture(scope="session")
def closed_report(judged: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pipelines.report.render import write_report

    return write_report(judged, CLOSED, tmp_path_factory.mktemp("out") / f"review-{CLOSED}.html", AS_OF)


@pytest.fixture(scope="session")
def open_report(judged: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pipelines.report.render import write_report

    return write_report(judged, OPEN, tmp_path_factory.mktemp("out") / f"review-{OPEN}.html", AS_OF)


@pytest.fixture(scope="session")
def several_report(judged: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The closed month's pack when two agreements were judged for it: a second one, beta, with
    its copy of the YAML and its rows in a copy of the warehouse's judgements (acme's), as a
    run over both would have written."""
    from pipelines.report.render import write_report

    root = tmp_path_factory.mktemp("several")
    sla = root / "sla"
    shutil.copytree(judged.sla_dir, sla)
    for path in sorted(sla.glob("acme-*.yaml")):
        (sla / path.name.replace("acme", "beta")).write_text(path.read_text().replace("name: acme", "name: beta", 1))
    warehouse = root / "warehouse.duckdb"
    shutil.copy(judged.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("insert into judgements.kpi_status select * replace ('beta' as agreement) "
                    "from judgements.kpi_status where agreement = 'acme' and period = ?", [CLOSED])
    settings = Settings(sla_dir=sla, data_dir=judged.data_dir, warehouse=warehouse, home=judged.home)
    return write_report(settings, CLOSED, root / f"review-{CLOSED}.html", AS_OF)
