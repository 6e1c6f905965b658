"""The dbt models as Dagster assets (dagster-dbt), fed by the raw-data and agreement assets."""


import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from pipelines.defs.partitions import run_as_of
from pipelines.defs.resources import FunnelpactResource
from pipelines.warehouse.duckdb_path import ENV_VAR as DUCKDB_PATH_ENV
from pipelines.warehouse.dbt_runner import format_as_of, project_dir, run_dbt

# dbt source names: the loader writes the CRM and web tables, the agreement writer the rest.
DATA_SOURCES, AGREEMENT_SOURCES = ("crm", "web"), ("agreement",)
SCORECARD = dg.AssetKey(["marts", "scorecard"])
# Read by macros/as_of.sql when no as_of var is given.
AS_OF_ENV = "FUNNELPACT_AS_OF"
# Which warehouse the manifest in target/ was parsed for (see ensure_manifest).
PARSED_FOR = "funnelpact-parsed-for"


def dbt_project(warehouse: Path | None = None) -> DbtProject:
    path = project_dir()
    project = DbtProject(project_dir=path, profiles_dir=path)
    ensure_manifest(project, warehouse)
    return project


def ensure_manifest(project: DbtProject, warehouse: Path | None = None) -> Path:
    """Parse the project when the manifest is missing or older than a model, macro or yml,
    or was parsed for another warehouse.

    `dbt parse` costs seconds, so it runs only when the project changed (the dbt project
    is part of the repository, not of a deployment artefact here). Its partial-parse state
    (target/partial_parse.msgpack, which dagster-dbt hands to every run) is valid only for
    the profile it was parsed with, and the profile holds the warehouse path: parsed for
    another path, every run re-parsed the whole project (~5 s of a ~30 s run, bench/).
    """
    manifest = project.manifest_path
    sources = [p for p in project.project_dir.rglob("*") if p.suffix in (".sql", ".yml", ".yaml")
               and "target" not in p.parts and "logs" not in p.parts]
    newest = max((p.stat().st_mtime for p in sources), default=0)
    stamp = manifest.parent / PARSED_FOR
    parsed_for = str(warehouse.resolve()) if warehouse else ""
    if (not manifest.exists() or manifest.stat().st_mtime < newest
            or (parsed_for and (not stamp.exists() or stamp.read_text() != parsed_for))):
        run_dbt("parse", warehouse=warehouse, project=project.project_dir,
                target_path=project.project_dir / "target")
        if parsed_for:
            stamp.write_text(parsed_for)
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
        # as_of goes by environment, not --vars: dbt re-parses the whole project when its vars
        # change (~4 s per run, bench/), and they would change every run (macros/as_of.sql).
        os.environ[AS_OF_ENV] = format_as_of(run_as_of(context))
        # Unit tests and the full scans of the biggest intermediate table (tag full_scan) run
        # in the test suite; the daily run builds the models and tests the rest.
        # One value: dagster-dbt appends its own --select and re-orders loose words.
        yield from dbt.cli(["build", "--exclude", "resource_type:unit_test tag:full_scan"],
                           context=context).stream()

    return funnel_facts
