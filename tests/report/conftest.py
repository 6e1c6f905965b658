"""One real warehouse for the report tests: synthetic company -> the Dagster job -> judged months.

Built once per session (about 25 s): 3,000 contacts of the deterministic generator, the job
over 2026-01..2026-11 as of 2026-11-25 with the agreements in sla/ (H1 and H2 revisions),
so 2026-10 is a closed month of H2 and 2026-11 an open one. The job itself judges
(Great Expectations -> judgements.kpi_status): the report tests read what it wrote.

Two more packs are built from it or like it: one of two agreements judged for the closed
month (`several_report`), and an open month whose money runs to eight digits (`large_report`).
"""

from __future__ import annotations

import re
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


def judge(root: Path, sla_dir: Path, first: str, average_deal_size: float | None = None) -> Settings:
    """A company generated into `root`, judged by the agreements in `sla_dir` from `first` to
    LAST as of AS_OF; its deals average `average_deal_size` (the generator's default if None)."""
    from pipelines.data.generate import generate
    from pipelines.data.synthetic import Funnel
    from pipelines.defs.execute import run_job

    settings = Settings(sla_dir=sla_dir, data_dir=root / "data", warehouse=root / ".funnelpact" / "warehouse.duckdb",
                        home=root / ".funnelpact")
    funnel = Funnel() if average_deal_size is None else Funnel(average_deal_size=average_deal_size)
    generate(settings.data_dir, contacts=3000, seed=7, funnel=funnel)
    outcome = run_job(settings, first, LAST, AS_OF, ephemeral=True)
    assert outcome.success, outcome.failure
    return settings


@pytest.fixture(scope="session")
def judged(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from pipelines.agreement.months import month_range

    settings = judge(tmp_path_factory.mktemp("report"), REPO / "sla", FIRST)
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
    its copy of the YAML and, in a copy of the warehouse, its rows of the judgements and of the
    hand-offs (acme's: the hand-off histogram and recycle reasons read them), as a run over
    both would have written."""
    from pipelines.report.render import write_report

    root = tmp_path_factory.mktemp("several")
    sla = root / "sla"
    shutil.copytree(judged.sla_dir, sla)
    for path in sorted(sla.glob("acme-*.yaml")):
        (sla / path.name.replace("acme", "beta")).write_text(path.read_text().replace("name: acme", "name: beta", 1))
    warehouse = root / "warehouse.duckdb"
    shutil.copy(judged.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        for table in ("judgements.kpi_status", "marts.mql_handoffs"):
            con.execute(f"insert into {table} select * replace ('beta' as agreement) "
                        f"from {table} where agreement = 'acme' and period = ?", [CLOSED])
    settings = Settings(sla_dir=sla, data_dir=judged.data_dir, warehouse=warehouse, home=judged.home)
    return write_report(settings, CLOSED, root / f"review-{CLOSED}.html", AS_OF)


@pytest.fixture(scope="session")
def large_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The open month's pack of a company whose deals are 100 times larger, and whose
    agreements' goal and deal size are too: revenue in eight digits (USD 13,935,484), so
    the sales card's table is 610 px wide where the fixture's is 541. Only the open month
    is judged (about 15 s)."""
    from pipelines.report.render import write_report

    root = tmp_path_factory.mktemp("large")
    sla = root / "sla"
    shutil.copytree(REPO / "sla", sla)
    for path in sla.glob("*.yaml"):
        text, scaled = re.subn(r"(revenue_goal|average_deal_size): (\d+)",
                               lambda m: f"{m.group(1)}: {int(m.group(2)) * 100}", path.read_text())
        assert scaled == 2, path
        path.write_text(text)
    settings = judge(root, sla, OPEN, average_deal_size=1_200_000)
    return write_report(settings, OPEN, root / f"review-{OPEN}.html", AS_OF)
