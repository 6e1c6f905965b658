"""The dbt models as Dagster assets (dagster-dbt), fed by the raw-data and agreement assets."""


import contextlib
import ctypes
import errno
import fcntl
import functools
import json
import os
import queue
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtProject, dbt_assets

from pipelines.agreement.months import parse_as_of
from pipelines.defs.partitions import AS_OF_TAG, tagged_as_of
from pipelines.defs.resources import FunnelpactResource
from pipelines.errors import InputError, Problem
from pipelines.warehouse.connection import writable
from pipelines.warehouse.dbt_runner import PROJECT_DIR_ENV, format_as_of, project_dir, run_dbt

# dbt source names: the loader writes the CRM and web tables, the agreement writer the rest.
DATA_SOURCES, AGREEMENT_SOURCES = ("crm", "web"), ("agreement",)
SCORECARD = dg.AssetKey(["marts", "scorecard"])
# Read by macros/as_of.sql when no as_of var is given.
AS_OF_ENV = "FUNNELPACT_AS_OF"
# Which warehouse the manifest in target/ was parsed for (see ensure_manifest).
PARSED_FOR = "funnelpact-parsed-for"
# dbt's per-node result events: what dagster-dbt turns into materialisations and checks.
RESULT_EVENTS = frozenset({"LogModelResult", "LogTestResult", "LogSeedResult", "LogSnapshotResult"})
# Unit tests and the full scans of the biggest intermediate table (tag full_scan) run in the
# test suite; the daily run builds the models and runs the other data tests.
FULL_SCANS = "tag:full_scan"
DAILY_EXCLUDE = f"resource_type:unit_test {FULL_SCANS}"
# dbt's debug-level file log (every statement, to logs/dbt.log) cost ~0.8 s of a 4 s build
# over an empty warehouse. The run's info-level dbt output is in the step's logs and in
# .funnelpact/logs/last-run.log; `dbt build --debug` in dbt_project/ gives the statements.
QUIET_FILE_LOG = ["--log-level-file", "info"]


def dbt_project(warehouse: Path | None = None) -> DbtProject:
    path = project_dir()
    if not (path / "dbt_project.yml").is_file():
        # A mistyped variable, or the default outside an editable install: dagster-dbt's
        # "project_dir does not exist" was exit 3, a bug, naming no setting.
        default = ("" if os.environ.get(PROJECT_DIR_ENV) else
                   " (unset, it is the dbt_project/ beside the installed package, which only an editable "
                   "install of the repository, pip install -e ., has)")
        raise InputError(Problem(f"no dbt project (no dbt_project.yml){default}: expected the repository's "
                                 f"dbt_project/ folder; set {PROJECT_DIR_ENV} to it", file=str(path),
                                 field=PROJECT_DIR_ENV))
    project = DbtProject(project_dir=path, profiles_dir=path)
    writable_project(project)
    ensure_manifest(project, warehouse)
    return project


def writable_project(project: DbtProject) -> None:
    """dbt writes target/ and logs/ in the project: a project folder funnelpact may not write
    (a read-only checkout or copy) failed the run with "the dbt project does not parse:
    … Permission denied" (exit 3), naming no setting."""
    with writable(project.project_dir, PROJECT_DIR_ENV):
        for folder in (target_dir(project), project.project_dir / "logs"):
            folder.mkdir(exist_ok=True)
            if not os.access(folder, os.W_OK | os.X_OK):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(folder))


def ensure_manifest(project: DbtProject, warehouse: Path | None = None) -> Path:
    """Parse the project when the manifest is missing or older than a model, macro or yml,
    or was parsed for another warehouse.

    `dbt parse` costs seconds, so it runs only when the project changed (the dbt project
    is part of the repository, not of a deployment artefact here). Its partial-parse state
    (target/partial_parse.msgpack, which dagster-dbt hands to every run) is valid only for
    the profile it was parsed with, and the profile holds the warehouse path: parsed for
    another path, every run re-parsed the whole project (~5 s of a ~30 s run, bench/).

    The stamp also names the manifest that parse finished writing (size and mtime): dbt
    rewrites manifest.json in place, and a run killed (or out of disk) while it wrote left a
    cut-off file newer than the project, which every later run read as "this is a bug"
    (JSONDecodeError) until someone deleted target/.
    """
    manifest = project.manifest_path
    newest = max((p.stat().st_mtime for p in project_sources(project.project_dir)), default=0)
    stamp = manifest.parent / PARSED_FOR
    parsed_for = str(warehouse.resolve()) if warehouse else ""
    with _parse_lock(project, fcntl.LOCK_EX):
        if (not manifest.exists() or manifest.stat().st_mtime < newest
                or not stamp.exists() or stamp.read_text() != _parsed(manifest, parsed_for)):
            run_dbt("parse", warehouse=warehouse, project=project.project_dir, target_path=target_dir(project))
            stamp.write_text(_parsed(manifest, parsed_for))
    return manifest


@contextlib.contextmanager
def _parse_lock(project: DbtProject, kind: int) -> Iterator[None]:
    """Held exclusively while a process checks and parses the project, shared while it reads the
    manifest: two processes on one project (`dagster dev` and a CLI run after a change, or two
    warehouses) parsed at once, and one read the manifest the other was writing (JSONDecodeError,
    exit 3, "this is a bug"). A target/ funnelpact cannot write goes without: nothing parses there."""
    try:
        target_dir(project).mkdir(exist_ok=True)
        handle = open(target_dir(project) / ".funnelpact-parse.lock", "a")  # noqa: SIM115
    except OSError:
        yield
        return
    with handle:
        fcntl.flock(handle, kind)
        yield


def _parsed(manifest: Path, parsed_for: str) -> str:
    """The stamp of a whole parse for a warehouse: its path and the manifest it wrote."""
    written = manifest.stat()
    return f"{parsed_for}\n{written.st_size} {written.st_mtime_ns}"


def target_dir(project: DbtProject) -> Path:
    """dbt's artefacts (manifest, partial-parse state, run results, compiled SQL)."""
    return project.project_dir / project.target_path


def project_sources(root: Path) -> Iterator[Path]:
    """The project's .sql and .yml files, not dbt's outputs (target/, logs/, dbt_packages/)."""
    for folder, dirs, files in os.walk(root):
        if Path(folder) == root:
            dirs[:] = [d for d in dirs if d not in ("target", "logs", "dbt_packages")]
        yield from (Path(folder) / f for f in files if f.endswith((".sql", ".yml", ".yaml")))


def read_manifest(project: DbtProject) -> dict[str, Any]:
    """manifest.json, parsed once per version of the file (it is read at load and in the step)."""
    path = project.manifest_path
    with _parse_lock(project, fcntl.LOCK_SH):
        return _parsed_manifest(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=2)
def _parsed_manifest(path: Path, _mtime_ns: int) -> dict[str, Any]:
    return json.loads(path.read_text())


class FunnelpactTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "funnel_facts"


def source_tables(project: DbtProject, source_names: tuple[str, ...]) -> dict[dg.AssetKey, str]:
    """The dbt sources' tables ([source, table]), which Python assets write, each with its
    warehouse table and what the sources' yml says of it: its description in the UI."""
    manifest = read_manifest(project)
    nodes = sorted((node for node in manifest["sources"].values() if node["source_name"] in source_names),
                   key=lambda node: (node["source_name"], node["name"]))
    return {dg.AssetKey([node["source_name"], node["name"]]): f"{node['schema']}.{node['identifier']}: "
            f"{node['description']}" for node in nodes}


def build_dbt_assets(project: DbtProject) -> dg.AssetsDefinition:
    """The dbt models as assets, built by one `dbt build` per run.

    Not partitioned by month: every build rewrites each model's whole table, all months, as
    of the run. Per-month partitions claimed a month was built by the run that last judged
    it, and cost Dagster a planned and a done event per model and month (~2 s of every run
    over 12 months, docs/performance.md). The months a run judges are its judgement assets'.
    """
    translator = FunnelpactTranslator()

    @dbt_assets(
        manifest=read_manifest(project),
        project=project,
        dagster_dbt_translator=translator,
        # No run executes the full scans: declared as checks, the UI listed them on their
        # asset as never evaluated, and every run logged that the step "did not yield" them.
        exclude=FULL_SCANS,
    )
    def funnel_facts(context: dg.AssetExecutionContext, funnelpact: FunnelpactResource):
        from pipelines.warehouse.judgements import mark_build

        warehouse = funnelpact.settings().warehouse
        with funnelpact.connect() as con:
            as_of, provenance = build_as_of(context, con, warehouse)
            # Before the build: a build that fails half-way has still replaced some marts.
            mark_build(con, context.run.run_id, as_of)
        # as_of goes by environment, not --vars: dbt re-parses the whole project when its vars
        # change (~4 s per run, bench/), and they would change every run (macros/as_of.sql).
        events = build_in_process(context, project, translator, warehouse, {AS_OF_ENV: format_as_of(as_of)})
        if provenance:
            events = (with_metadata(event, provenance) for event in events)
        yield from events

    return funnel_facts


def build_as_of(context: dg.AssetExecutionContext, con: Any, warehouse: Path) -> tuple[datetime, dict[str, str]]:
    """The instant the run builds the models as of, and, when it is the warehouse's last
    build's, the metadata its materialisations say so with.

    A run started in the UI has no as-of of its own. With the load it builds as of now.
    Without it (models selected alone, *Materialize selected*), as of the instant the
    warehouse's models were last built as of: as of now, they sat beside the models the last
    run built as of its own instant, and the marts of one warehouse disagreed.
    """
    from pipelines.warehouse.judgements import built_as_of

    as_of = tagged_as_of(context.run.tags)
    if as_of is not None:
        return as_of, {}
    provenance: dict[str, str] = {}
    if loads_raw_data(context):
        as_of = parse_as_of(None)
    else:
        built = built_as_of(con)
        if built is None:
            raise InputError(Problem(
                "no run has built the dbt models of this warehouse yet, so there is no instant to build the "
                "selected ones as of: materialise everything first (the job with a month: *Materialize all*, or "
                "`funnelpact run`), then models selected alone are built as of that run's instant",
                file=str(warehouse)))
        as_of = built.replace(tzinfo=UTC)
        provenance = {"as_of": f"{as_of:%Y-%m-%d %H:%M:%S} UTC",
                      "as_of_from": "the warehouse's last build: this run does not load the data (docs/operations.md)"}
        context.log.info(
            f"building as of {provenance['as_of']}, the instant the warehouse's models were last built as of: this "
            "run does not load the data, and models built as of now would disagree with the others. To build as of "
            "now, materialise the load (crm/*) with them, or the whole job")
    # Kept in the run's tags, as the CLI and the schedule keep theirs: a re-execution copies
    # its parent's tags, and *From asset failure* rebuilt the models a failure left as of its
    # own start, beside the models the first attempt built as of another instant.
    context.instance.add_run_tags(context.run.run_id, {AS_OF_TAG: as_of.isoformat()})
    return as_of, provenance


def loads_raw_data(context: dg.AssetExecutionContext) -> bool:
    """Whether the run executes the load of the CRM data. Read from the steps its plan
    executes, which a launch from the UI and a subset job run in process both fill, where the
    latter's asset selection is empty, whatever it selected."""
    from pipelines.defs.assets import LOAD_STEP

    plan = context.instance.get_execution_plan_snapshot(context.run.execution_plan_snapshot_id)
    return LOAD_STEP in plan.step_keys_to_execute


def with_metadata(event: Any, metadata: Mapping[str, str]) -> Any:
    """A model's materialisation with `metadata` added; the data tests' results as they are."""
    if isinstance(event, dg.Output | dg.AssetMaterialization):
        return event.with_metadata({**event.metadata, **metadata})
    return event


def build_in_process(context: dg.AssetExecutionContext, project: DbtProject,
                     translator: DagsterDbtTranslator, warehouse: Path,
                     env: Mapping[str, str]) -> Iterator[Any]:
    """`dbt build` of the selected models in this process, streaming dagster-dbt's events.

    dagster-dbt's `DbtCliResource` runs dbt in a subprocess, and first a second one for
    `dbt --version`: ~4 s of a run's fixed cost (docs/performance.md). Here dbt runs in a
    thread of the step; each node's result event goes through dagster-dbt's own conversion
    (materialisations, asset checks for data tests), so the UI shows what it did before.
    """
    from dagster_dbt.asset_utils import get_subset_selection_for_context
    from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage
    from dbt_common.events.functions import msg_to_dict

    manifest = read_manifest(project)
    selection, indirect = get_subset_selection_for_context(
        context=context, manifest=manifest, select=None, exclude=None, selector=None,
        dagster_dbt_translator=translator, current_dbt_indirect_selection_env=None)
    results: queue.Queue[dict[str, Any] | None] = queue.Queue()

    def on_event(msg: Any) -> None:
        if msg.info.name in RESULT_EVENTS:
            results.put(msg_to_dict(msg))

    error: list[BaseException] = []

    def build() -> None:
        try:
            run_dbt("build", warehouse=warehouse, project=project.project_dir,
                    target_path=target_dir(project), run_results_to=target_dir(project) / "run_results.json",
                    extra=[*build_args(selection, indirect), *QUIET_FILE_LOG], callbacks=[on_event],
                    env=env)
        except BaseException as exc:  # raised by the step, after the events dbt did produce
            error.append(exc)
        finally:
            results.put(None)

    worker = threading.Thread(target=build, name="dbt-build", daemon=True)
    _BUILDS[worker] = set(threading.enumerate())
    worker.start()
    try:
        while (raw := results.get()) is not None:
            event = DbtCoreCliEventMessage(raw_event=raw, event_history_metadata={})
            yield from event.to_default_asset_events(manifest=manifest, dagster_dbt_translator=translator,
                                                     context=context, project=project)
    except BaseException:
        stop_builds()
        raise
    finally:
        _BUILDS.pop(worker, None)
    worker.join()
    if error:
        raise error[0]


# Each running build's thread, with the threads alive before it started (the rest are dbt's).
_BUILDS: dict[threading.Thread, set[threading.Thread]] = {}


def stop_builds() -> None:
    """Stop every dbt build still running. The step stops its own when interrupted inside
    it; an interrupt that reaches Dagster while it handles a yielded event leaves the step
    suspended, and the job's caller stops the build here."""
    for worker, before in list(_BUILDS.items()):
        _stop(worker, [t for t in threading.enumerate() if t not in before and t is not worker])
        _BUILDS.pop(worker, None)


def _stop(worker: threading.Thread, started: list[threading.Thread], timeout: float = 120) -> None:
    """Interrupt dbt's thread and wait for it and the threads dbt started (its node pool),
    when the step is interrupted (Ctrl-C).

    Left running, they kept writing after the run had released the warehouse lock, and the
    interpreter's exit with a thread inside DuckDB aborted the process (SIGABRT). A
    KeyboardInterrupt raised in the thread makes dbt cancel the build the way Ctrl-C does in
    `dbt build`; it takes effect when the statement running in DuckDB returns. dbt does not
    always wait for its pool's thread: a data test still running then finished after it.
    """
    if worker.ident is not None and worker.is_alive():
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(worker.ident), ctypes.py_object(KeyboardInterrupt))
    deadline = time.monotonic() + timeout
    for thread in [worker, *started]:
        thread.join(max(deadline - time.monotonic(), 0))


def build_args(selection: list[str], indirect_selection: str | None) -> list[str]:
    """dbt arguments for the step: dagster-dbt's selection of the run's assets and checks,
    without unit tests and the full scans (tag full_scan), which the test suite runs.

    >>> build_args(["--select", "fqn:a", "--exclude", "fqn:b"], "empty")
    ['--select', 'fqn:a', '--exclude', 'fqn:b resource_type:unit_test tag:full_scan', '--indirect-selection', 'empty']
    """
    args = list(selection)
    if "--exclude" in args:
        at = args.index("--exclude") + 1
        args[at] = f"{args[at]} {DAILY_EXCLUDE}"
    else:
        args += ["--exclude", DAILY_EXCLUDE]
    if indirect_selection:
        args += ["--indirect-selection", indirect_selection]
    return args
