"""GX data docs: a local static site of the suites and, after a run, of its validations."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.checks.compile import SUITES_SUBDIR
from pipelines.checks.context import DEFAULT_PROJECT_DIR, file_context
from pipelines.errors import InputError, Problem

if TYPE_CHECKING:
    from pipelines.checks.validate import CheckRun

SITE = Path("gx") / "uncommitted" / "data_docs" / "local_site"
VALIDATIONS = Path("gx") / "uncommitted" / "validations"


def build_data_docs(run: CheckRun | None = None, project_dir: Path = DEFAULT_PROJECT_DIR) -> Path:
    """Store `run`'s validation results in the project (git-ignored uncommitted/) and
    (re)build the site; returns its index.html. Without a run: the suites only, plus any
    results stored earlier."""
    try:
        for folder in (VALIDATIONS, SITE):
            _can_write(project_dir / folder)
        context = file_context(project_dir)
        _check_suites(context, project_dir)
        if run is not None:
            _store(context, run)
        context.build_data_docs()
    except OSError as exc:
        raise InputError(Problem(
            f"cannot write the data docs ({exc.strerror or exc}: {exc.filename}); expected a project folder "
            "this user can write into", file=str(project_dir))) from None
    return (project_dir / SITE / "index.html").resolve()


def _can_write(folder: Path) -> None:
    """Raise OSError unless `folder` can be written. Where it cannot, GX logs a traceback for
    each page it fails to write (one per suite) and carries on: this fails first, once."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as exc:  # named after the folder, not the probe's random file
        raise OSError(exc.errno, exc.strerror, str(folder)) from None


def _check_suites(context, project_dir: Path) -> None:
    """Raise InputError naming the first suite file GX cannot read. GX stops the whole site
    at such a file with a bare JSONDecodeError or ValidationError that names no file."""
    from marshmallow import ValidationError  # what GX's suite schema raises

    for path in sorted((project_dir / SUITES_SUBDIR).rglob("*.json")):
        try:
            context.expectations_store.deserialize(path.read_text(encoding="utf-8"))
        except (ValueError, ValidationError) as exc:  # ValueError: not JSON, or not UTF-8
            raise InputError(Problem(
                f"Great Expectations cannot read this suite ({type(exc).__name__}: {' '.join(str(exc).split())}); "
                "expected a suite in GX's JSON format (fix or delete it; `funnelpact compile` rewrites the suites "
                "it generates)", file=str(path))) from None


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
