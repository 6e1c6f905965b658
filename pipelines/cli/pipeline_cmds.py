"""Commands that run the pipeline: run, backfill, demo.

They execute the same Dagster job the schedule launches, in-process, with the persistent
Dagster home, so CLI runs show in the UI too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.markup import escape

from pipelines.cli.options import INT_METAVAR, MONTH_METAVAR, AsOfOption, DataOption, SlaOption, as_of_instant, month_option, settings_for
from pipelines.cli.output import ScorecardFormat, echo, err_console, failure_message, report_warning, say
from pipelines.errors import EXIT_FAILED, EXIT_INTERRUPTED, InputError, Problem, interrupted_query
from pipelines.settings import ALERT_CHANNELS_ENV, check_run_settings

if TYPE_CHECKING:
    from pipelines.defs.execute import JobOutcome


def register(app: typer.Typer) -> None:
    app.command(epilog="Examples: funnelpact run --data data/; funnelpact run --from 2026-01 --to 2026-03 --format json")(run)
    app.command(epilog="Example: funnelpact backfill --from 2026-01 --to 2026-06 --data data/")(backfill)
    app.command(epilog="Example: funnelpact demo --dir /tmp/funnelpact-demo")(demo)
    app.command(name="prune-runs", epilog="Examples: funnelpact prune-runs --keep-days 90 --dry-run; "
                "funnelpact prune-runs --keep-days 30")(prune_runs)


@dataclass(frozen=True)
class Scorecard:
    """What a CLI run judged: the stored judgements of its months and the data-quality counts."""

    results: list[dict]
    data_quality: dict


def execute(settings, first: str | None, last: str | None, as_of: datetime, fmt: str, *,
            quiet: bool = False, tell_failure: bool = True, why: str | None = None) -> Scorecard:
    """Run the job for the months (default: current and settling ones) and print the scorecard.
    A run that fails is told to the channels (`tell_failure`), as the failure sensor tells the
    daemon's and the UI's, whose code location this run is not in. `why`: the reason a quiet
    caller runs the job, said once the run is sure to start (its checks passed)."""
    from pipelines.agreement import load_agreements
    from pipelines.agreement.months import spans
    from pipelines.alerts.deliver import allowed_channels
    from pipelines.cli.scorecard_output import print_scorecard, scorecard_json
    from pipelines.data.sources import require_data_dir
    from pipelines.defs.execute import run_job
    from pipelines.warehouse.connection import connect
    from pipelines.warehouse.judgements import read_judgements
    from pipelines.warehouse.summary import data_quality_summary, data_warnings

    agreements = load_agreements(settings.sla_dir)
    require_data_dir(settings.data_dir)
    # Read by the alerts step, the last: an unknown kind failed the run after it had loaded,
    # built and judged, and its failure could be told to no channel. Not checked when the
    # code location loads: there it would take the failure sensor away with the schedule.
    allowed_channels(os.environ)
    check_run_settings()
    months, notes = _resolve_months(agreements, first, last, as_of)
    first, last = months[0], months[-1]
    if not quiet:
        for note in notes:  # on stderr: JSON's `months` has no why
            say(note)
    if why is not None or (not quiet and fmt != "json"):
        say(f"judging {spans(months)} as of {as_of:%Y-%m-%d %H:%M} UTC "
            + (why or f"(data {settings.data_dir}, warehouse {settings.warehouse})"))
    # Also when quiet (report, demo): a warning, not progress; a what-if judgement is stored
    # as the month's judgement like any other.
    if as_of > datetime.now(UTC):
        say(f"--as-of {as_of:%Y-%m-%d %H:%M} UTC is in the future: facts dated up to it are judged as if "
            "known, and this run announces nothing (the alert state is left to the real runs)")
    try:
        # The job takes tens of seconds: show it is alive (rich draws nothing when not a terminal).
        with err_console.status("loading data, building the funnel facts (dbt), judging (Great Expectations), "
                                "alerting…"):
            outcome = run_job(settings, first, last, as_of)
    except Exception as exc:
        # Raised past the job's steps (Dagster's home on a full disk): printed and exited by the
        # CLI's handler as before, once told. A cron run that failed so alerted nobody.
        if tell_failure and (escaped := _outside_steps(exc, settings)) is not None:
            _tell_failure(escaped, agreements, months, as_of)
        raise
    if not outcome.success:
        if tell_failure:
            _tell_failure(outcome, agreements, months, as_of)
        _exit_failed(outcome)
    with connect(settings.warehouse, read_only=True) as con:
        results = read_judgements(con, months)
        dq = data_quality_summary(con)
        warnings = [w for kind in data_warnings(con, months).values() for w in kind]
    if fmt == "json":
        echo(scorecard_json(as_of, months, results, dq, outcome.run_id, warnings))
    elif not quiet:
        print_scorecard(results, dq, as_of)
    for warning in warnings:  # on stderr, also with JSON on stdout (which holds them too)
        report_warning(Problem(warning))
    # On stderr in both formats: a failed delivery must show when stdout is piped as JSON.
    if outcome.alerts and not quiet:
        _print_deliveries(outcome)
    return Scorecard(results, dq)


def _resolve_months(agreements, first: str | None, last: str | None,
                    as_of: datetime) -> tuple[list[str], list[str]]:
    """The months a run of --from/--to judges (neither: the current and settling ones; one:
    that month), and a note on each asked for that it leaves out, and why."""
    from pipelines.agreement.load import not_judged, require_in_force, require_started
    from pipelines.agreement.months import month_index, month_of, month_range
    from pipelines.defs.partitions import month_span, months_to_judge

    current = []
    if first is None and last is None:
        months = months_to_judge(agreements, as_of)
        if not months:
            raise InputError(nothing_to_judge(agreements, as_of))
        first, last = month_span(months)
        # In a gap between revisions or after the last window, the current month is in no
        # agreement: say so, as for a month asked for, rather than judge the settling months
        # as if today's month were among them.
        current = sorted({m for m in (month_of(as_of, a.spec.timezone) for a in agreements)
                          if not any(m in a.months() for a in agreements)})
    first, last = first or last, last or first
    if month_index(first) > month_index(last):
        raise InputError(Problem(f"--from {first} is after --to {last}", field="--from"))
    asked = month_range(first, last)
    in_force = require_in_force(agreements, asked, "--from/--to")
    months = require_started(agreements, in_force, as_of, "--from/--to")
    return months, not_judged(asked + current, in_force, months)


def nothing_to_judge(agreements, as_of: datetime) -> Problem:
    """Why a run without --from/--to has no month: too early, or every month begun is over."""
    from pipelines.agreement.load import has_started, windows
    from pipelines.agreement.months import month_index

    begun = [m for a in agreements for m in a.months() if has_started(agreements, m, as_of)]
    if not begun:
        return Problem(f"no agreement month has started by {as_of:%Y-%m-%d}: nothing to judge", field="--as-of")
    last = max(begun, key=month_index)
    return Problem(f"no agreement month is under way or settling as of {as_of:%Y-%m-%d} (the agreements cover "
                   f"{windows(agreements)}): name the months to judge, e.g. --from {last} --to {last}",
                   field="--as-of")


def _outside_steps(exc: Exception, settings) -> JobOutcome | None:
    """The failed run (a JobOutcome without a run id, step or log of its own) of an exception
    the job raised past its steps, as the command words it; None for what refused the command
    before a run (bad input: a setting, Dagster's home or the warehouse's run lock held by
    another run) and for an interrupted query, which is Ctrl-C."""
    from pipelines.defs.execute import JobOutcome

    if isinstance(exc, InputError) or interrupted_query(type(exc).__name__, str(exc)):
        return None
    return JobOutcome("", False, failure_message(exc), log_file=settings.run_log)


def _tell_failure(outcome, agreements, months: list[str], as_of: datetime) -> None:
    """Tell the channels of the revisions in force in `months` that the run failed, and say on
    stderr which were told. Not a run interrupted (whoever stopped it knows), nor one Dagster
    never started (the dbt project does not parse), nor a what-if run as of an instant to
    come, which announces nothing."""
    from pipelines.alerts.events import run_named
    from pipelines.defs.execute import tell_failure
    from pipelines.defs.jobs import JOB_NAME

    now = datetime.now(UTC)
    if outcome.kind in ("interrupted", "not_started") or as_of > now:
        return
    run = run_named(outcome.run_id, JOB_NAME)
    # $FUNNELPACT_ALERT_CHANNELS was checked before the run (`execute`).
    try:
        with err_console.status("telling the channels that the run failed…"):
            told = tell_failure(outcome, agreements, months, as_of, now)
    except KeyboardInterrupt:
        # Ctrl-C while a channel does not answer: the run's own error, and its exit code, are
        # still what whoever pressed it needs (`_exit_failed`, next). A delivery under way may
        # still end as the process exits.
        say(f"interrupted while telling the channels that {run} failed: a channel not told by "
            "then may not be")
        return
    except Exception as exc:
        # A bug in telling must not hide the run's own error and exit code.
        say(f"the failure of {run} could not be told: {type(exc).__name__}: {exc}")
        return
    said = [f"told to {', '.join(told.sent) or 'no channel'}"]
    if told.failed:
        said.append("not told to " + ", ".join(f"{key} ({reason})" for key, reason in told.failed.items()))
    if told.held:
        said.append(f"held back from {', '.join(told.held)} ({ALERT_CHANNELS_ENV})")
    say(f"the failure of {run} was {'; '.join(said)}")


def _exit_failed(outcome) -> NoReturn:
    """Exit as the failed job says: 130 interrupted, 2 bad input (one line per problem), else 3."""
    if outcome.kind == "interrupted":
        if outcome.step == "alerts":
            # Everything is built and judged by then: only sending was cut short.
            say("interrupted while sending the alerts: the facts and the judgements are written; the alerts "
                f"not sent stay in the outbox, and the next run sends them (run id {outcome.run_id})")
        else:
            say("interrupted; the warehouse may hold a partial build (the load and the dbt models finished "
                f"before the interrupt): run again before reading it or writing a report (run id {outcome.run_id})")
        raise typer.Exit(EXIT_INTERRUPTED)
    if outcome.kind == "bad_input":
        # One problem per line, as the loader found them (each names its file).
        raise InputError([Problem(line) for line in outcome.failure.splitlines() if line.strip()])
    # No run id: it failed before Dagster started a run (the dbt project does not parse).
    steps = (f"; run id {outcome.run_id} in the Dagster UI (docs/operations.md) has every step's logs"
             if outcome.run_id else "")
    err_console.print(f"[bold red]error[/] the run failed: {escape(str(outcome.failure))}\n"
                      f"  its stack is in {escape(str(outcome.log_file))}{steps}", highlight=False)
    raise typer.Exit(EXIT_FAILED)


def _print_deliveries(outcome) -> None:
    a = outcome.alerts
    # One alert goes to each channel of its revision: "52 sent" for 13 alerts on four
    # channels read as 52 alerts. The deliveries include retries of earlier alerts.
    err_console.print(f"alerts: {a.get('new_alerts', 0)} new; deliveries: {a.get('sent', 0)} sent, "
                      f"{a.get('failed', 0)} failed, {a.get('pending', 0)} kept for the next run "
                      f"(details: {escape(str(outcome.log_file))})")


def run(
    data: DataOption = None,
    sla: SlaOption = None,
    as_of: AsOfOption = None,
    from_: Annotated[str | None, typer.Option("--from", metavar=MONTH_METAVAR, help="First month to judge (YYYY-MM); alone, that month only. Default: the current month "
                  "and the months still settling (above).", show_default=False)] = None,
    to: Annotated[str | None, typer.Option("--to", metavar=MONTH_METAVAR, help="Last month to judge (YYYY-MM); alone, that month only. Default: the current month "
                  "and the months still settling (above).", show_default=False)] = None,
    format: Annotated[ScorecardFormat, typer.Option("--format", "-f", help="table for people, json for machines.")] = ScorecardFormat.table,
) -> None:
    """Run the whole pipeline and print the scorecard.

    Loads the data directory, writes the agreements into the warehouse, builds the dbt
    funnel facts, judges every KPI with the Great Expectations suites and sends alerts —
    through the same Dagster job the daily schedule runs. Without --from/--to it judges the
    current month and every earlier month until a week after it has settled (its end plus
    the longest cohort window or hand-off limit), so its final status is judged. A current
    month in no revision's window (a gap between revisions, after the last) is named on
    stderr as not judged.

    A run of the job that fails (exit 2 or 3 below) is told to the channels of the revisions
    in force in its months, as the failure sensor tells the schedule's (docs/alerts.md), also
    one that fails outside its steps (a full disk: without a run id); a command refused before
    its run starts (an argument, the agreements, the data directory, a setting such as
    FUNNELPACT_ALERT_CHANNELS, another run using the warehouse: exit 2) tells nobody, nor does a
    run --as-of an instant to come.

    Exit code 0 when no fail-severity target is breached, 1 when one is, 2 on bad input,
    3 when the pipeline failed for another reason (its log says why), 130 when interrupted.
    """
    _judge(data, sla, as_of, from_, to, format)


def _judge(data: Path | None, sla: Path | None, as_of: str | None, from_: str | None, to: str | None,
           format: ScorecardFormat) -> None:
    """What run and backfill share: execute the job, print the scorecard, exit by it."""
    from pipelines.cli.scorecard_output import exit_for

    scorecard = execute(settings_for(data, sla), month_option(from_, "--from"), month_option(to, "--to"),
                        as_of_instant(as_of), format.value)
    exit_for(scorecard.results)


def backfill(
    from_: Annotated[str, typer.Option("--from", metavar=MONTH_METAVAR, help="First month (YYYY-MM).")],
    to: Annotated[str, typer.Option("--to", metavar=MONTH_METAVAR, help="Last month (YYYY-MM).")],
    data: DataOption = None,
    sla: SlaOption = None,
    as_of: AsOfOption = None,
    format: Annotated[ScorecardFormat, typer.Option("--format", "-f", help="table for people, json for machines.")] = ScorecardFormat.table,
) -> None:
    """Re-run past months in one run, each judged by the revision in force then.

    Idempotent: backfilling twice leaves the warehouse identical. With --as-of in the past it
    reproduces what was knowable then. A run of the job that fails is told to the channels of
    the revisions in force in those months, as `funnelpact run`'s (docs/alerts.md).

    Exit code 0 when no fail-severity target of those months is breached, 1 when one is (as
    `funnelpact run`), 2 on bad input, 3 when the pipeline failed for another reason (its log
    says why), 130 when interrupted.
    """
    _judge(data, sla, as_of, from_, to, format)


def demo(
    dir: Annotated[Path, typer.Option("--dir", file_okay=False,
                                      help="Where the demo writes its data, warehouse and report.")] = Path("funnelpact-demo"),
    contacts: Annotated[int, typer.Option(help="Contacts in the synthetic company.")] = 6000,
) -> None:
    """Generate a demo company, run the pipeline over its months and write the review pack.

    Needs no set-up: it uses the agreements in sla/ of the current directory when it holds
    any YAML, else the sla/ of the funnelpact checkout it is installed from (an editable
    install, `pip install -e .`); $FUNNELPACT_SLA_DIR is not read. Data, warehouse and report
    go under --dir. It prints where everything is and how to open the Dagster UI on the
    same data. Its alerts go to the run's log only (FUNNELPACT_ALERT_CHANNELS=log): the data
    is made up, and the agreements may name your team's real Slack and mail.

    Exit code 0 when done, whatever the demo company's statuses; 2 when it finds no
    agreements (or they start after today), 3 when the pipeline failed, 130 when interrupted.
    """
    from pipelines.demo import run_demo

    run_demo(dir.resolve(), contacts)


def prune_runs(
    keep_days: Annotated[int, typer.Option("--keep-days", min=0, metavar=INT_METAVAR,
                                           help="Keep the runs of the last N days.")] = 90,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be deleted, and delete nothing.")] = False,
) -> None:
    """Delete old finished runs from the Dagster home, which Dagster never prunes itself.

    The daily schedule leaves ~2.3 MB a day there: each run's events, its rows of the run index
    and its captured output. This deletes the runs created more than --keep-days ago that have
    finished (succeeded, failed or cancelled), as the UI's Delete does, with their files. Their
    materialisations and check results leave the UI's asset pages with them; the warehouse,
    its judgements and the alert state are not touched. The home is $DAGSTER_HOME, else
    $FUNNELPACT_HOME/dagster.

    Exit code 0 when done (also when there is nothing to delete), 2 when the home cannot be
    used (a dagster.yaml Dagster cannot read, its SQLite files damaged, read-only or held by
    another process), 3 when the disk is full, 130 when interrupted.
    """
    from datetime import timedelta

    from pipelines.defs.execute import home_variable, state_named
    from pipelines.defs.retention import prune_runs as prune
    from pipelines.settings import Settings

    settings = Settings.from_env()
    home, variable = settings.dagster_home, home_variable()
    # A cron job's mistyped variable pruned nothing, every night, with exit 0 and no name of it.
    if (there := next((p for p in (home, *home.parents) if p.exists()), None)) is not None and not there.is_dir():
        raise InputError(Problem(f"{there} is a file, not a folder: expected Dagster's home, a folder, or a path "
                                 "where one can be", file=str(home), field=variable))
    if not (home / "dagster.yaml").is_file():
        say(f"no Dagster home at {escape(str(home))} (${variable}; no run has used it): nothing to delete")
        return
    before = datetime.now(UTC) - timedelta(days=keep_days)
    with state_named(settings, variable, run_log=False):
        pruned = prune(home, before, dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    say(f"{verb} {pruned.deleted} finished run{'s' if pruned.deleted != 1 else ''} created before "
        f"{before:%Y-%m-%d %H:%M} UTC ({pruned.freed / 1e6:.1f} MB of event logs and captured output); "
        f"{pruned.kept} run{'s' if pruned.kept != 1 else ''} kept in {escape(str(home))}")
