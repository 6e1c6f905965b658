"""GX data docs: a local static site of the suites and, after a run, of its validations."""

from __future__ import annotations

import copy
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

# A stored validation's kind starts its batch id (`<kind>-<suite>`): judgement and
# scorecard (final figures, and the scorecard's own checks), forecast (the pace of open
# months), and provisional: the figures that can still change (open month, immature
# cohort), stored apart so that GX's pass/fail of the others is met/breach.
PROVISIONAL = "provisional"

# Where a stored validation, and each expectation in it, carries the status it shows.
STATUS_KEY = "status"


def shown_status(kind: str, success: bool) -> str | None:
    """The SPEC section 4 status the data docs show instead of GX's passed/failed, if any.
    A partial figure below the final bound is no breach (provisional), and a forecast that
    misses it is at_risk; GX's verdict on a final figure is already met/breach."""
    if kind == PROVISIONAL:
        return "provisional"
    if kind == "forecast" and not success:
        return "at_risk"
    return None


def batch_kind(batch_identifier: str | None) -> str:
    return (batch_identifier or "").split("-", 1)[0]


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
        _show_statuses(context)
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


def _show_statuses(context) -> None:
    """Build with the renderers of pipelines.checks.docs_view, which show `shown_status`.
    Set for this build only, not written to the project's config: a project made before
    them gets them too, and a renderer the config names itself is kept."""
    from pipelines.checks.docs_view import INDEX_RENDERER, PAGE_RENDERER

    sites = context.variables.data_docs_sites or {}  # a copy: set back below, never saved
    for site in sites.values():
        if site.get("class_name", "SiteBuilder") != "SiteBuilder":
            continue
        # Only GX's own builders: another class may take no `renderer`.
        index = site.setdefault("site_index_builder", {})
        if index.get("class_name", "DefaultSiteIndexBuilder") == "DefaultSiteIndexBuilder":
            index.setdefault("renderer", INDEX_RENDERER)
        validations = site.setdefault("site_section_builders", {}).setdefault("validations", {})
        if isinstance(validations, dict) and validations.get("class_name", "DefaultSiteSectionBuilder") == \
                "DefaultSiteSectionBuilder":  # not switched off (validations: false), nor another class
            validations.setdefault("renderer", PAGE_RENDERER)
    context.variables.data_docs_sites = sites


def _store(context, run: CheckRun) -> None:
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    run_id = RunIdentifier(
        run_name=f"as-of-{run.as_of:%Y%m%dT%H%M%S}", run_time=datetime.now(UTC)
    )
    still_open = {r.expectation_id for r in run.results if r.expectation_id and not r.is_final}
    for validation in run.validations:
        name = validation.suite_name
        asset = validation.meta.get("active_batch_definition", {}).get("data_asset_name", "batch")
        for kind, results in _parts(asset, validation.results, still_open):
            stored = _validation(validation, kind, results)
            stored.meta["run_id"] = run_id
            stored.meta["validation_time"] = run_id.run_time
            context.validation_results_store.store_validation_results(
                suite_validation_result=stored,
                suite_validation_result_identifier=ValidationResultIdentifier(
                    expectation_suite_identifier=ExpectationSuiteIdentifier(name=name),
                    run_id=run_id,
                    batch_identifier=f"{kind}-{name}",
                ),
                expectation_suite_identifier=ExpectationSuiteIdentifier(name=name),
            )


def _parts(asset: str, results: list, still_open: set[str]) -> list[tuple[str, list]]:
    """A validation's results by the kind they are stored as. One validation judges every
    month of a revision, closed and open; GX would show it failed for a partial figure of
    the open month, so the results of figures that can still change are stored apart. A
    forecast is of open months only, and says at_risk, not provisional."""
    if asset == "forecast":
        return [(asset, results)]
    parts = [(asset, [r for r in results if r.expectation_config.id not in still_open]),
             (PROVISIONAL, [r for r in results if r.expectation_config.id in still_open])]
    return [(kind, part) for kind, part in parts if part]


def _validation(validation, kind: str, results: list):
    """A copy of `validation` holding `results`, its statistics and success theirs (GX's own
    sums), each marked with the status it shows (the run's CheckRun is left as it was)."""
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult
    from great_expectations.validator.validation_statistics import calc_validation_statistics

    results = copy.deepcopy(results)
    for r in results:
        status = shown_status(kind, bool(r.success))
        if status:
            r.expectation_config.meta = {**(r.expectation_config.meta or {}), STATUS_KEY: status}
    statistics = calc_validation_statistics(results)._asdict()
    success = statistics.pop("success")
    meta = {k: copy.deepcopy(v) for k, v in validation.meta.items() if k not in ("run_id", "validation_time")}
    status = shown_status(kind, success)
    if status:
        meta[STATUS_KEY] = status
    return ExpectationSuiteValidationResult(
        success=success, results=results, suite_name=validation.suite_name,
        suite_parameters=validation.suite_parameters, statistics=statistics, meta=meta,
    )
