"""The Dagster code location: `dagster dev -w workspace.yaml` loads `defs` from here."""

import os
import warnings
from pathlib import Path

from pipelines.defs.build import build_definitions


def _check_dagster_home() -> None:
    """Say so when the UI does not run in the home funnelpact writes: without DAGSTER_HOME,
    `dagster dev` keeps runs, ticks and judged months in a temporary home it deletes on
    exit, and neither queues runs one at a time nor shows the CLI's runs."""
    from pipelines.settings import Settings

    home = os.environ.get("DAGSTER_HOME")
    if not home or not (Path(home) / "dagster.yaml").is_file():
        # An exported DAGSTER_HOME is the one `funnelpact run` uses and prepares; without one,
        # funnelpact's is $FUNNELPACT_HOME/dagster (not always ./.funnelpact/dagster).
        todo = ("Run `funnelpact run` once with this DAGSTER_HOME (it prepares the home), then start the UI "
                "again" if home else
                f"Run `funnelpact run` once and start the UI with DAGSTER_HOME={Settings.from_env().dagster_home}")
        warnings.warn(
            f"DAGSTER_HOME ({home or 'not set'}) is not a home funnelpact prepared: runs are not queued one "
            f"at a time (DuckDB allows one writer) and `funnelpact run` does not show here. {todo} "
            "(docs/operations.md)", UserWarning, stacklevel=2)


def _check_schedule_zone(timezone: str) -> None:
    """Say so when Dagster would tick the schedule by other clocks than funnelpact's months:
    the system's zoneinfo files and the `tzdata` package disagree on the schedule's zone."""
    from datetime import UTC, datetime

    from pipelines.defs.schedules import system_zone_disagrees

    if (instant := system_zone_disagrees(timezone, datetime.now(UTC))) is not None:
        warnings.warn(
            f"this system's time zone files differ from the tzdata package funnelpact reads for {timezone} "
            f"from {instant:%Y-%m-%d %H:%M} UTC: the schedule's ticks would follow the system's (an hour off), "
            "while the months judged follow the package. Start the UI and the daemon with PYTHONTZPATH= "
            "(empty) so Dagster reads the package too (docs/operations.md)", UserWarning, stacklevel=2)


_check_dagster_home()
defs = build_definitions()
# The schedule as built: `get_schedule_def` resolves the repository and warns (a
# UserWarning on every load of the code location) that its behaviour changes in 1.11.
_check_schedule_zone(defs.get_unresolved_schedule_def("funnelpact_daily").execution_timezone)
