"""The dbt models as Dagster assets (dagster-dbt), fed by the raw-data and agreement assets."""


import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from pipelines.defs.partitions import AS_OF_TAG, parse_as_of
from pipelines.defs.resources import FunnelpactResource
from pipelines.warehouse.duckdb_path import ENV_VAR as DUCKDB_PATH_ENV
from pipelines.warehouse.dbt_runner import format_as_of, project_dir, run_dbt

# dbt source names: the loader writes the CRM and web tables, the agreement writer the rest.
DATA_SOURCES, AGREEMENT_SOURCES = ("crm", "web"), ("agreement",)
SCORECARD = dg.AssetKey(["marts", "scorecard"])


def dbt_project() -> DbtProject:
    path = project_dir()
    project = DbtProject(project_dir=path, profiles_dir=path)
    ensure_manifest(project)
    return project


def ensure_manifest(project: DbtProject) -> Path:
    """Parse the project when the manifest is missing or older than a model, macro or yml.

    `dbt parse` costs seconds, so it runs only when the project changed (the dbt project
    is part of the repository, not of a deployment artefact here).
    """
    manifest = project.manifest_path
    sources = [p for p in project.project_dir.rglob("*") if p.suffix in (".sql", ".yml", ".yaml")
               and "target" not in p.parts and "logs" not in p.parts]
    newest = max((p.stat().st_mtime for p in sources), default=0)
    if not manifest.exists() or manifest.stat().st_mtime < newest:
        run_dbt("parse", project=project.project_dir, target_path=project.project_dir / "target")
    return manifest


class FunnelpactTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "funnel_facts"


def source_keys(project: DbtProject, source_names: tuple[str, ...]) -> list[dg.AssetKey]:
    """Asset keys of the dbt sources' tables ([source, table]), which Python assets write."""
    manifest = json.loads(project.manifest_path.read_text())
    return sorted(
        dg.AssetKey([node["source_name"], node["name"]])
        for node in manifest["sources"].values()
        if node["source_name"] in source_names
    )


def build_dbt_assets(project: DbtProject, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=FunnelpactTranslator(),
        partitions_def=partitions,
        # Every month is computed in one dbt invocation: a 12-month backfill is one build.
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def funnel_facts(context: dg.AssetExecutionContext, dbt: DbtCliResource, funnelpact: FunnelpactResource):
        # dbt runs in a subprocess whose profiles.yml reads this variable: hand it the
        # resolved absolute path, so dbt opens the file the loader wrote.
        os.environ[DUCKDB_PATH_ENV] = str(funnelpact.settings().warehouse)
        as_of = format_as_of(parse_as_of(context.run.tags.get(AS_OF_TAG)))
        # Unit tests run in the test suite; the daily run only builds and tests the data.
        args = ["build", "--vars", json.dumps({"as_of": as_of}), "--exclude", "resource_type:unit_test"]
        yield from dbt.cli(args, context=context).stream()

    return funnel_facts
