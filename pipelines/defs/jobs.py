"""The one job the schedule, the UI and the CLI all run."""

from __future__ import annotations

import dagster as dg

JOB_NAME = "funnelpact_job"


def build_job() -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        JOB_NAME,
        selection=dg.AssetSelection.all(),
        description="Load the CRM data, write the agreement, build the funnel facts, judge the "
        "targets with Great Expectations and alert the owning teams. DuckDB allows one writer: "
        "the Dagster home's dagster.yaml runs one at a time.",
    )
