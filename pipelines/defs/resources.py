"""The one resource every funnelpact asset uses: where things live, resolved at run time."""

from __future__ import annotations

from contextlib import contextmanager
from collections.abc import Iterator

import dagster as dg
from pydantic import Field

from pipelines.settings import Settings


# How long a run the daemon or the UI launched waits for another run on the same warehouse.
RUN_LOCK_WAIT_SECONDS = 30 * 60


class FunnelpactResource(dg.ConfigurableResource):
    """Paths of the agreements, the data directory and the warehouse.

    Empty values fall back to the environment (FUNNELPACT_SLA_DIR, FUNNELPACT_DATA_DIR,
    FUNNELPACT_DUCKDB_PATH, FUNNELPACT_HOME) when a run starts, not when code loads.
    """

    # Shown in the launchpad, where the paths can be changed for one run: the code location
    # sets them from the environment it loaded in, and a field without a description left the
    # reader to guess what an empty value does.
    sla_dir: str = Field(default="", description=(
        "The agreements folder this run's steps read. Empty: FUNNELPACT_SLA_DIR, else sla/. The partitions and "
        "the schedule follow the folder the code location loaded."))
    data_dir: str = Field(default="", description=(
        "The CRM data directory the run loads (contacts.csv, lifecycle_events.csv, …). Empty: "
        "FUNNELPACT_DATA_DIR, else data/."))
    duckdb_path: str = Field(default="", description=(
        "The DuckDB warehouse the run loads, builds and judges in. Empty: FUNNELPACT_DUCKDB_PATH, else "
        ".funnelpact/warehouse.duckdb."))
    home: str = Field(default="", description=(
        "funnelpact's state folder: the alert state (alerts.sqlite: what was announced, the outbox). Empty: "
        "FUNNELPACT_HOME, else .funnelpact."))

    def settings(self) -> Settings:
        from pathlib import Path

        base = Settings.from_env()
        return Settings(
            sla_dir=Path(self.sla_dir).resolve() if self.sla_dir else base.sla_dir,
            data_dir=Path(self.data_dir).resolve() if self.data_dir else base.data_dir,
            warehouse=Path(self.duckdb_path).resolve() if self.duckdb_path else base.warehouse,
            home=Path(self.home).resolve() if self.home else base.home,
        )

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["FunnelpactResource"]:
        """The warehouse's run lock for the whole run (`pipelines.warehouse.run_lock`): a run
        the daemon or the UI launched waits for one already going; a CLI run holds it already."""
        from pipelines.warehouse.run_lock import run_lock

        log = context.log.info if context.log else None
        with run_lock(self.settings().warehouse, RUN_LOCK_WAIT_SECONDS, log):
            yield self

    @contextmanager
    def connect(self) -> Iterator["duckdb.DuckDBPyConnection"]:  # noqa: F821
        from pipelines.warehouse.connection import connect

        with connect(self.settings().warehouse) as con:
            yield con
