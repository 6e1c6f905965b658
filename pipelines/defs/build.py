"""Assemble the one `Definitions` from the agreements found at load time."""

from __future__ import annotations

import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from pipelines.agreement import load_agreements
from pipelines.defs.assets import build_input_assets
from pipelines.defs.dbt import AGREEMENT_SOURCE, CRM_SOURCE, build_dbt_assets, dbt_project, source_keys
from pipelines.defs.jobs import build_job
from pipelines.defs.partitions import monthly_partitions
from pipelines.defs.resources import FunnelpactResource
from pipelines.defs.schedules import build_daily_schedule
from pipelines.settings import Settings


def dbt_executable() -> str:
    """dbt from this interpreter's environment, so an un-activated virtualenv works too."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else "dbt"


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    settings = settings or Settings.from_env()
    agreements = load_agreements(settings.sla_dir)
    partitions = monthly_partitions(agreements)
    project = dbt_project()
    inputs = build_input_assets(partitions, source_keys(project, CRM_SOURCE), source_keys(project, AGREEMENT_SOURCE))
    assets = [*inputs, build_dbt_assets(project, partitions)]
    job = build_job(partitions)
    return dg.Definitions(
        assets=assets,
        jobs=[job],
        schedules=[build_daily_schedule(job, agreements)],
        resources={
            "funnelpact": FunnelpactResource(
                sla_dir=str(settings.sla_dir),
                data_dir=str(settings.data_dir),
                duckdb_path=str(settings.warehouse),
                home=str(settings.home),
            ),
            "dbt": DbtCliResource(project_dir=project, dbt_executable=dbt_executable()),
        },
    )
