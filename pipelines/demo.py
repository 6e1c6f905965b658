"""`funnelpact demo`: the one-command first experience.

Generates the demo company, runs the job over every agreement month up to now, writes the
review pack for the last closed month, and says where everything is.
"""

from __future__ import annotations

import os
import shlex
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from rich.markup import escape

from pipelines.agreement.load import agreement_files
from pipelines.cli.output import console, echo
from pipelines.cli.scorecard_output import print_scorecard
from pipelines.errors import InputError, Problem
from pipelines.settings import ALERT_CHANNELS_ENV, DATA_ENV, HOME_ENV, SLA_ENV, Settings
from pipelines.warehouse.duckdb_path import DEFAULT_PATH
from pipelines.warehouse.duckdb_path import ENV_VAR as DUCKDB_PATH_ENV

REPO_SLA = Path(__file__).resolve().parents[1] / "sla"


def demo_sla_dir() -> Path:
    """The agreements of the current project, else the example shipped with funnelpact."""
    local = Path("sla")
    # The files `validate` and `run` would read there (H2.YAML, a subfolder): a glob of its
    # own passed over them and ran the shipped example instead.
    if local.is_dir() and agreement_files([local]):
        return local.resolve()
    if REPO_SLA.is_dir():
        return REPO_SLA
    raise InputError(Problem("no agreements found: expected sla/*.yaml here or in the funnelpact checkout"))


def run_demo(root: Path, contacts: int) -> None:
    from pipelines.agreement import load_agreements
    from pipelines.agreement.load import span
    from pipelines.agreement.months import month_index, month_of
    from pipelines.cli.pipeline_cmds import execute
    from pipelines.data.generate import generate
    from pipelines.report.render import write_report

    started = time.monotonic()
    settings = Settings(sla_dir=demo_sla_dir(), data_dir=root / "data", warehouse=root / DEFAULT_PATH,
                        home=root / DEFAULT_PATH.parent)
    agreements = load_agreements(settings.sla_dir)
    as_of = datetime.now(UTC).replace(microsecond=0)
    tz = agreements[0].spec.timezone
    first, last = span(agreements)
    current = month_of(as_of, tz)
    if month_index(current) < month_index(first):
        raise InputError(Problem(f"the agreements start in {first}, after today: nothing to judge yet"))
    last = min(last, current, key=month_index)

    console.print(f"[bold]1/3[/] generating a synthetic company ({contacts:,} contacts) into {escape(str(settings.data_dir))}")
    generate(settings.data_dir, contacts=contacts, seed=7)
    console.print(f"[bold]2/3[/] running the pipeline for {first}..{last} as of {as_of:%Y-%m-%d %H:%M} UTC; "
                  f"alerts to the run's log only ({ALERT_CHANNELS_ENV}=log: the data is made up)")
    # A failed run is not told: the company is made up, and no team waits on its figures.
    with _alerts_to_the_log_only():
        scorecard = execute(settings, first, last, as_of, "table", quiet=True, tell_failure=False)
    results = scorecard.results
    report_month = _month_to_review(first, last, current)
    # Every month was judged; show the two that matter today: the one under review and the
    # latest (the open one, or the agreements' last once their window has ended).
    shown = [r for r in results if r["period"] in (report_month, last)]
    # Said, or its statuses line (the months shown) reads as contradicting the count of every
    # month's judgements and breaches under "demo done".
    months = f"{report_month} (the month the pack reviews)" + (f" and {last} (the latest)" if last != report_month else "")
    console.print(f"the scorecard of {months}; all {len(results)} judgements of {first}..{last} are in the warehouse")
    print_scorecard(shown, scorecard.data_quality, as_of)
    report_path = root / f"review-{report_month}.html"
    console.print(f"[bold]3/3[/] writing the review pack for {report_month}")
    write_report(settings, report_month, report_path, as_of)

    breaches = sum(1 for r in results if r["status"] == "breach")
    console.print(
        f"\n[bold green]demo done[/] in {time.monotonic() - started:.0f} s: {len(results)} KPI judgements over "
        f"{first}..{last}, {breaches} breaches.\n"
        f"  data:       {escape(str(settings.data_dir))}\n"
        f"  warehouse:  {escape(str(settings.warehouse))}\n"
        f"  report:     {escape(str(report_path))}  (open it in a browser)\n"
        "  Dagster UI: run this, then open http://127.0.0.1:3000 (the demo's run is in the Runs tab):\n"
    )
    # Plain echo: a command to copy must not be re-wrapped by rich.
    echo(ui_command(settings))


@contextmanager
def _alerts_to_the_log_only() -> Iterator[None]:
    """The project's sla/ names the team's real Slack and mail, and their secrets may be set in
    this shell: made-up breaches must not reach them."""
    before = os.environ.get(ALERT_CHANNELS_ENV)
    os.environ[ALERT_CHANNELS_ENV] = "log"
    try:
        yield
    finally:
        if before is None:
            del os.environ[ALERT_CHANNELS_ENV]
        else:
            os.environ[ALERT_CHANNELS_ENV] = before


def _month_to_review(first: str, last: str, current: str) -> str:
    """The last closed month the agreements cover (`last` is already capped at `current`)."""
    from pipelines.agreement.months import add_months, month_index

    previous = add_months(current, -1)
    if month_index(previous) < month_index(first):
        return current            # the agreements start this month: nothing closed yet
    return min(previous, last, key=month_index)


def ui_command(settings: Settings) -> str:
    env = {
        SLA_ENV: settings.sla_dir,
        DATA_ENV: settings.data_dir,
        HOME_ENV: settings.home,
        DUCKDB_PATH_ENV: settings.warehouse,
        ALERT_CHANNELS_ENV: "log",
        "DAGSTER_HOME": settings.dagster_home,
        # Empty: Dagster's schedule reads the zones of the tzdata package, as funnelpact does.
        "PYTHONTZPATH": "",
    }
    lines = [f"    {key}={shlex.quote(str(value))} \\" for key, value in env.items()]
    workspace = REPO_SLA.parent / "workspace.yaml"
    return "\n".join([*lines, f"    dagster dev -w {shlex.quote(str(workspace))}"])
