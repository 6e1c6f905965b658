"""Assemble the one `Definitions` from the agreements found at load time."""

from __future__ import annotations

import warnings

import dagster as dg

from pipelines.agreement import load_agreements
from pipelines.defs.assets import build_input_assets
from pipelines.defs.dbt import AGREEMENT_SOURCES, DATA_SOURCES, build_dbt_assets, dbt_project, source_tables
from pipelines.defs.jobs import build_job
from pipelines.defs.judgement import build_judgement_assets
from pipelines.defs.partitions import monthly_partitions
from pipelines.defs.resources import FunnelpactResource
from pipelines.defs.schedules import build_daily_schedule
from pipelines.defs.sensors import build_run_failure_sensor
from pipelines.settings import Settings, check_run_settings


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    # Single-run backfills make any range of months one judging run; the API is marked
    # beta, which is a fact for us to track, not a warning for every user run.
    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    settings = settings or Settings.from_env()
    agreements = load_agreements(settings.sla_dir)
    check_run_settings()
    partitions = monthly_partitions(agreements)
    project = dbt_project(settings.warehouse)
    inputs = build_input_assets(source_tables(project, DATA_SOURCES), source_tables(project, AGREEMENT_SOURCES))
    assets = [*inputs, build_dbt_assets(project),
              *build_judgement_assets(partitions)]
    job = build_job()
    return dg.Definitions(
        assets=assets,
        jobs=[job],
        # Steps one after another in the run's process, for every job, also the asset job of a
        # UI backfill: with Dagster's default (one process per step) `raw_crm` and
        # `agreement_tables` opened the warehouse at once, and DuckDB allows one writer.
        executor=dg.in_process_executor,
        schedules=[build_daily_schedule(job, agreements, settings.sla_dir)],
        sensors=[build_run_failure_sensor(agreements, settings.sla_dir)],
        resources={
            "funnelpact": FunnelpactResource(
                sla_dir=str(settings.sla_dir),
                data_dir=str(settings.data_dir),
                duckdb_path=str(settings.warehouse),
                home=str(settings.home),
            ),
        },
    )
