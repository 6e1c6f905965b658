"""GX data docs: a local static site of the suites and, after a run, of its validations."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.checks.context import DEFAULT_PROJECT_DIR, file_context

if TYPE_CHECKING:
    from pipelines.checks.validate import CheckRun

SITE = Path("gx") / "uncommitted" / "data_docs" / "local_site"


def build_data_docs(run: CheckRun | None = None, project_dir: Path = DEFAULT_PROJECT_DIR) -> Path:
    """Store `run`'s validation results in the project (git-ignored uncommitted/) and
    (re)build the site; returns its index.html. Without a run: the suites only, plus any
    results stored earlier."""
    context = file_context(project_dir)
    if run is not None:
        _store(context, run)
    context.build_data_docs()
    return (project_dir / SITE / "index.html").resolve()


def _store(context, run: CheckRun) -> None:
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    run_id = RunIdentifier(
        run_name=f"as-of-{run.as_of:%Y%m%dT%H%M%S}", run_time=datetime.now(UTC)
    )
    for validation in run.validations:
        name = validation.suite_name
        asset = validation.meta.get("active_batch_definition", {}).get("data_asset_name", "batch")
        validation.meta["run_id"] = run_id
        validation.meta["validation_time"] = run_id.run_time
        context.validation_results_store.store_validation_results(
            suite_validation_result=validation,
            suite_validation_result_identifier=ValidationResultIdentifier(
                expectation_suite_identifier=ExpectationSuiteIdentifier(name=name),
                run_id=run_id,
                batch_identifier=f"{asset}-{name}",
            ),
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=name),
        )
