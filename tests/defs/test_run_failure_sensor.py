"""The run-failure sensor: real runs of the job in a Dagster instance on disk, the sensor
evaluated as the daemon evaluates it (its cursor kept between ticks), a loopback webhook."""

from __future__ import annotations

import dataclasses
import logging
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from pipelines.agreement import load_agreements
from pipelines.alerts.run_failure import concerned
from pipelines.defs.assets import GROUP_INPUTS
from pipelines.defs.partitions import AS_OF_TAG, run_tags, tagged_months
from pipelines.defs.sensors import SENSOR_NAME, build_run_failure_sensor
from pipelines.settings import Settings
from tests.alerts.loopback import HttpRecorder, Scripted, SmtpRecorder

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
AS_OF = datetime(2026, 8, 20, 12, tzinfo=UTC)
WEBHOOK = "    - {channel: webhook, url_env: FUNNELPACT_ALERT_WEBHOOK}"


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    """A Dagster instance whose runs, events and sensor cursors are SQLite files in a temp dir."""
    home = tmp_path / "dagster"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        yield instance


@pytest.fixture
def broken(company: Path, tmp_path: Path) -> Path:
    """The test company with a contacts file that is no contacts table: the load step fails on it."""
    data = tmp_path / "broken"
    shutil.copytree(company, data)
    (data / "contacts.csv").write_text("name;email\nMarta;marta@acme.example\n")
    return data


def webhook_for_both_revisions(settings: Settings, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both revisions of sla/ alert the same webhook (one channel) and the log, not Slack and e-mail."""
    for path in settings.sla_dir.glob("*.yaml"):
        text = path.read_text()
        slack, email = (line for line in text.splitlines() if "channel: slack" in line or "channel: email" in line)
        path.write_text(text.replace(f"{slack}\n{email}\n", f"{WEBHOOK}\n"))
    monkeypatch.setenv("FUNNELPACT_ALERT_WEBHOOK", url)


def definitions(settings: Settings, data: Path) -> dg.Definitions:
    from pipelines.defs.build import build_definitions

    return build_definitions(dataclasses.replace(settings, data_dir=data))


def tick(defs: dg.Definitions, instance: dg.DagsterInstance, cursor: str | None):
    """One evaluation of the sensor, from the cursor the last one left, as the daemon's tick."""
    return defs.get_unresolved_sensor_def(SENSOR_NAME).evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor))


def run(defs: dg.Definitions, instance: dg.DagsterInstance, first: str, last: str):
    return defs.resolve_job_def("funnelpact_job").execute_in_process(
        instance=instance, tags=run_tags(first, last, AS_OF), raise_on_error=False)


def march_then_july_in_one_tick(defs: dg.Definitions, instance: dg.DagsterInstance):
    """A failed run over 2026-03, then one over 2026-07, and the tick that first sees them both."""
    cursor = tick(defs, instance, None).cursor
    march, july = run(defs, instance, "2026-03", "2026-03"), run(defs, instance, "2026-07", "2026-07")
    return march, july, tick(defs, instance, cursor)


def failed_step(result) -> str:
    return next(e.step_key for e in result.all_events if e.is_step_failure)


def test_a_failed_run_is_told_once_to_each_channel_of_the_revisions_of_its_months(
        settings: Settings, broken: Path, company: Path, instance, http: HttpRecorder, monkeypatch, caplog) -> None:
    caplog.set_level(logging.INFO, logger="pipelines")
    webhook_for_both_revisions(settings, http.url(), monkeypatch)
    defs = definitions(settings, broken)
    # On wherever the daemon runs, as the schedule is.
    assert defs.get_unresolved_sensor_def(SENSOR_NAME).default_status == dg.DefaultSensorStatus.RUNNING
    started = tick(defs, instance, None)   # the first tick only notes where the events stand
    assert started.skip_message.startswith("Initiating") and not http.posts

    result = run(defs, instance, "2026-06", "2026-07")
    assert not result.success
    told = tick(defs, instance, started.cursor)
    assert [r.error for r in told.dagster_run_reactions] == [None]
    # June is 2026-h1's, July 2026-h2's: their one webhook gets one message.
    [post] = http.posts
    body = post.json()
    assert body["kind"] == "run_failure" and body["alert_id"] == f"run_failure/{result.run_id}"
    assert post.headers["Idempotency-Key"] == body["alert_id"]
    assert (body["run_id"], body["step"], body["months"]) == (result.run_id, failed_step(result), ["2026-06", "2026-07"])
    assert body["agreements"] == [{"agreement": "acme", "revision": "2026-h1"},
                                  {"agreement": "acme", "revision": "2026-h2"}]
    assert "contacts" in body["error"] and "\n" not in body["error"]
    assert body["as_of"] == "2026-08-20T12:00:00+00:00"
    assert "their alerts come with the next run that succeeds" in body["text"]
    # Receivers are written against the fields docs/alerts.md lists.
    docs = (ROOT / "docs" / "alerts.md").read_text(encoding="utf-8")
    listed = docs.split("The webhook's body is", 1)[1].split("The messages hold no secret", 1)[0]
    assert set(body) == set(re.findall(r"`([a-z_]+)`", listed)) - {"run_failure"}   # a value of `kind`
    # The log channel of both revisions, once too.
    lines = [r for r in caplog.records if r.getMessage().startswith("funnelpact alert run_failure: ")]
    assert len(lines) == 1 and lines[0].levelno == logging.ERROR
    assert f"run={result.run_id}" in lines[0].getMessage() and "months=2026-06..2026-07" in lines[0].getMessage()

    # The next tick does not tell it again, nor does a run that succeeds (the load of the
    # inputs, seconds) tell anything.
    again = tick(defs, instance, told.cursor)
    assert not again.dagster_run_reactions and len(http.posts) == 1
    good = definitions(settings, company)
    inputs = dg.AssetSelection.groups(GROUP_INPUTS).resolve(good.resolve_asset_graph())
    assert good.resolve_job_def("funnelpact_job").get_subset(asset_selection=inputs).execute_in_process(
        instance=instance).success
    after = tick(good, instance, again.cursor)
    assert not after.dagster_run_reactions and len(http.posts) == 1


def test_a_channel_that_fails_fails_the_tick_naming_it_and_is_not_tried_again(
        settings: Settings, broken: Path, instance, caplog) -> None:
    """sla/ alerts Slack, e-mail and the log; the Slack and e-mail variables are not set."""
    caplog.set_level(logging.INFO, logger="pipelines")
    defs = definitions(settings, broken)
    cursor = tick(defs, instance, None).cursor
    result = run(defs, instance, "2026-03", "2026-03")
    told = tick(defs, instance, cursor)
    [reaction] = told.dagster_run_reactions
    error = reaction.error.to_string()
    assert f"the failure of run {result.run_id} was not told to slack:FUNNELPACT_SLACK_WEBHOOK" in error
    assert "FUNNELPACT_SLACK_WEBHOOK is not set" in error and "email:FUNNELPACT_SMTP_URL" in error
    assert "it was told to log" in error
    assert any("funnelpact alert run_failure: " in r.getMessage() for r in caplog.records)
    assert not tick(defs, instance, told.cursor).dagster_run_reactions


def test_a_run_not_told_to_every_channel_ends_its_tick_red_and_the_next_run_is_the_next_tick_s(
        settings: Settings, broken: Path, instance, http: HttpRecorder, monkeypatch) -> None:
    """2026-h1 alerts Slack and e-mail, whose variables are not set; 2026-h2 a webhook that
    answers. The daemon gives a tick the status of its last run (dagster/_daemon/sensor.py,
    _handle_run_reactions): a July run told after a March run that was not turned the tick
    green, and the failed tick that names the channels not told was never shown."""
    h2 = settings.sla_dir / "acme-2026-h2.yaml"
    text = h2.read_text()
    slack, email = (line for line in text.splitlines() if "channel: slack" in line or "channel: email" in line)
    h2.write_text(text.replace(f"{slack}\n{email}\n", f"{WEBHOOK}\n"))
    monkeypatch.setenv("FUNNELPACT_ALERT_WEBHOOK", http.url())
    defs = definitions(settings, broken)
    march, july, told = march_then_july_in_one_tick(defs, instance)
    [reaction] = told.dagster_run_reactions
    assert reaction.dagster_run.run_id == march.run_id
    assert "was not told to slack:FUNNELPACT_SLACK_WEBHOOK" in reaction.error.to_string() and not http.posts
    told = tick(defs, instance, told.cursor)
    assert [(r.dagster_run.run_id, r.error) for r in told.dagster_run_reactions] == [(july.run_id, None)]
    assert [post.json()["run_id"] for post in http.posts] == [july.run_id]


def test_a_tick_stops_telling_in_time_and_leaves_the_runs_it_did_not_reach_to_the_next(
        settings: Settings, broken: Path, instance, monkeypatch, caplog) -> None:
    """sla/'s Slack and e-mail on loopback servers that take the connection and never answer
    (18 s a channel: two failed runs outlasted Dagster's 60 s, and the tick told them again),
    the tick's time cut from 40 s to 2 s: a tick tells one run within it, both channels tried
    at once and cut at its end, and the next tick the other."""
    caplog.set_level(logging.INFO, logger="pipelines")
    silent = [Scripted(None), Scripted(None)]
    busy, smtp = HttpRecorder(), SmtpRecorder()
    monkeypatch.setenv("FUNNELPACT_SLACK_WEBHOOK", silent[0].url("http") + "/hook")
    monkeypatch.setenv("FUNNELPACT_SMTP_URL", silent[1].url("smtp"))
    defs = definitions(settings, broken)

    def tick(sensor: dg.SensorDefinition, cursor: str | None):
        started = datetime.now(UTC)
        result = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor))
        return result, (datetime.now(UTC) - started).total_seconds()

    def sensor(seconds: float) -> dg.SensorDefinition:
        return build_run_failure_sensor(load_agreements(settings.sla_dir), settings.sla_dir, tick_seconds=seconds)

    try:
        short = sensor(2.0)
        cursor = tick(short, None)[0].cursor
        first, second = run(defs, instance, "2026-03", "2026-03"), run(defs, instance, "2026-07", "2026-07")
        told, took = tick(short, cursor)
        [reaction] = told.dagster_run_reactions
        assert reaction.dagster_run.run_id == first.run_id and took < 3.5, took
        error = reaction.error.to_string()
        assert "slack:FUNNELPACT_SLACK_WEBHOOK (" in error and "email:FUNNELPACT_SMTP_URL:" in error
        assert error.count("; no time left to try again (1 attempt)") == 2, error
        assert "it was told to log" in error
        told, took = tick(short, told.cursor)
        assert [r.dagster_run.run_id for r in told.dagster_run_reactions] == [second.run_id] and took < 3.5, took
        told, _ = tick(short, told.cursor)
        assert not told.dagster_run_reactions
        lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("funnelpact alert run_failure: ")]
        assert [first.run_id in lines[0], second.run_id in lines[1]] == [True, True] and len(lines) == 2

        # With half its time left a tick goes on to the next run, which has what is left, not a
        # tick's time of its own: 2026-h1's Slack answers 503 twice, then takes the message (3
        # tries, 1 s and 2 s apart: 3 s of the 8), 2026-h2's never answers and is cut at the
        # tick's 8 s, while the e-mail tried beside it is told. (A run not told to a channel ends
        # its tick: the next run is the next tick's.)
        h2 = settings.sla_dir / "acme-2026-h2.yaml"
        h2.write_text(h2.read_text().replace("webhook_url_env: FUNNELPACT_SLACK_WEBHOOK", "webhook_url_env: SILENT_SLACK"))
        busy.status = 503

        def busy_twice(handler) -> str:
            if len(busy.posts) == 2:
                busy.status = 200
            return "busy"

        busy.answer = busy_twice
        monkeypatch.setenv("FUNNELPACT_SLACK_WEBHOOK", busy.url())
        monkeypatch.setenv("SILENT_SLACK", silent[0].url("http") + "/hook")
        monkeypatch.setenv("FUNNELPACT_SMTP_URL", smtp.url())
        third, fourth = run(defs, instance, "2026-03", "2026-03"), run(defs, instance, "2026-07", "2026-07")
        told, took = tick(sensor(8.0), told.cursor)
        assert [(r.dagster_run.run_id, r.error is None) for r in told.dagster_run_reactions] == [
            (third.run_id, True), (fourth.run_id, False)]
        assert 8.0 <= took < 9.5, took
        assert len(busy.posts) == 3 and len(smtp.mails) == 2
        assert "slack:SILENT_SLACK (" in told.dagster_run_reactions[1].error.to_string()
    finally:
        busy.stop()
        smtp.stop()
        for server in silent:
            server.stop()


def test_a_failure_the_sensor_cannot_read_is_told_what_is_known_and_ends_the_tick_red(
        settings: Settings, broken: Path, instance, http: HttpRecorder, monkeypatch, caplog) -> None:
    """A run launched with an as-of tag that is no instant (typed in the UI's launchpad), and a
    run after it: reading the first raised, a bug. Dagster put the exception on that run and went
    on to the next, which was told and turned the tick green (the daemon gives a tick the status
    of its last run: dagster/_daemon/sensor.py, _handle_run_reactions), and the first was told to
    no one. It is told what is known of it, and its tick ends red with it."""
    caplog.set_level(logging.INFO, logger="pipelines")
    webhook_for_both_revisions(settings, http.url(), monkeypatch)
    defs = definitions(settings, broken)
    cursor = tick(defs, instance, None).cursor
    odd = defs.resolve_job_def("funnelpact_job").execute_in_process(
        instance=instance, tags={**run_tags("2026-03", "2026-03", AS_OF), AS_OF_TAG: "last tuesday"},
        raise_on_error=False)
    july = run(defs, instance, "2026-07", "2026-07")
    assert not odd.success and not july.success
    told = tick(defs, instance, cursor)
    [reaction] = told.dagster_run_reactions   # the last, so the tick's status
    assert reaction.dagster_run.run_id == odd.run_id and reaction.error is not None
    error = reaction.error.to_string()
    assert (f"the failure of run {odd.run_id} could not be read, a bug in funnelpact (ValueError: Invalid isoformat "
            "string: 'last tuesday'): what is known of the run was told to webhook:FUNNELPACT_ALERT_WEBHOOK, log. "
            "It is not tried again") in error, error
    assert "in parse_as_of" in error   # the bug's traceback, in the tick's error
    [post] = http.posts
    body = post.json()
    assert (body["run_id"], body["job"], body["step"], body["months"], body["as_of"]) == (
        odd.run_id, "funnelpact_job", None, ["2026-03"], "")
    assert body["error"] == "the failure could not be read: ValueError: Invalid isoformat string: 'last tuesday'"
    assert body["agreements"] == [{"agreement": "acme", "revision": "2026-h1"}]
    assert "Step: not known: the failure could not be read" in body["text"]
    assert body["title"] == f"Run failed in an unknown step: 2026-03 not judged (run {odd.run_id[:8]})"
    [said] = [r for r in caplog.records if r.getMessage().startswith(f"the failure of run {odd.run_id} could not be read")]
    assert said.levelno == logging.ERROR and said.exc_info is not None

    told = tick(defs, instance, told.cursor)
    assert [(r.dagster_run.run_id, r.error) for r in told.dagster_run_reactions] == [(july.run_id, None)]
    assert [post.json()["run_id"] for post in http.posts] == [odd.run_id, july.run_id]


def test_agreements_whose_reading_raises_are_a_bug_and_the_loaded_ones_are_told(
        settings: Settings, broken: Path, instance, http: HttpRecorder, monkeypatch) -> None:
    """Reading sla/ raising what no agreement error raises (a bug in the loader, simulated: the
    real one cannot be made buggy): the channels of the agreements the code location loaded are
    told what is known of the run, and the tick fails naming the bug."""
    webhook_for_both_revisions(settings, http.url(), monkeypatch)
    defs = definitions(settings, broken)
    cursor = tick(defs, instance, None).cursor
    result = run(defs, instance, "2026-06", "2026-07")

    def loader_bug(folder: Path):
        raise RuntimeError("the loader met what it did not expect")

    monkeypatch.setattr("pipelines.defs.sensors.load_agreements", loader_bug)
    [reaction] = tick(defs, instance, cursor).dagster_run_reactions
    assert "could not be read, a bug in funnelpact (RuntimeError: the loader met what it did not expect)" in \
        reaction.error.to_string()
    [post] = http.posts
    assert (post.json()["run_id"], post.json()["months"]) == (result.run_id, ["2026-06", "2026-07"])
    assert post.json()["agreements"] == [{"agreement": "acme", "revision": "2026-h1"},
                                         {"agreement": "acme", "revision": "2026-h2"}]


def test_a_failure_that_cannot_be_told_at_all_ends_the_tick_red_at_its_run(
        settings: Settings, broken: Path, instance, http: HttpRecorder, monkeypatch, caplog) -> None:
    """An unknown kind in FUNNELPACT_ALERT_CHANNELS: telling raises. Raised out of the sensor, the
    tick went on to the next run; now it ends with the run, its error naming the variable, and
    the next run is the next tick's."""
    caplog.set_level(logging.INFO, logger="pipelines")
    webhook_for_both_revisions(settings, http.url(), monkeypatch)
    monkeypatch.setenv("FUNNELPACT_ALERT_CHANNELS", "pager")
    defs = definitions(settings, broken)
    march, july, told = march_then_july_in_one_tick(defs, instance)
    [reaction] = told.dagster_run_reactions
    assert reaction.dagster_run.run_id == march.run_id
    assert (f"the failure of run {march.run_id} was told to no channel: InputError: FUNNELPACT_ALERT_CHANNELS: "
            "unknown channel kind 'pager'") in reaction.error.to_string()
    # Bad input, said without a traceback.
    [said] = [r for r in caplog.records if r.getMessage().startswith(f"the failure of run {march.run_id} was told")]
    assert said.levelno == logging.ERROR and said.exc_info is None
    [reaction] = tick(defs, instance, told.cursor).dagster_run_reactions
    assert reaction.dagster_run.run_id == july.run_id and not http.posts


def test_agreements_that_no_longer_read_are_said_and_the_loaded_ones_told(
        settings: Settings, company: Path, instance, http: HttpRecorder, monkeypatch, caplog) -> None:
    """An agreement broken after the code location loaded fails the run in its first step; the
    sensor cannot read it either, says so, and tells the channels the code location loaded."""
    caplog.set_level(logging.INFO)
    webhook_for_both_revisions(settings, http.url(), monkeypatch)
    defs = definitions(settings, company)
    cursor = tick(defs, instance, None).cursor
    h2 = settings.sla_dir / "acme-2026-h2.yaml"
    h2.write_text(h2.read_text().replace("timezone: America/Mexico_City", "timezone: Mars/Olympus"))
    result = run(defs, instance, "2026-07", "2026-07")
    assert not result.success
    told = tick(defs, instance, cursor)
    assert [r.error for r in told.dagster_run_reactions] == [None]
    [post] = http.posts
    assert post.json()["agreements"] == [{"agreement": "acme", "revision": "2026-h2"}]
    assert "Mars/Olympus" in post.json()["error"]
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any(f"cannot read the agreements in {settings.sla_dir}" in m and "acme-2026-h2.yaml" in m
               and "telling the channels of the agreements the code location loaded" in m for m in said), said


def test_the_months_a_run_was_to_judge_are_its_range_or_its_one_partition_else_none() -> None:
    """The tags the sensor reads the months from: a range (CLI, schedule, single-run backfill),
    the one month picked in the UI's launchpad, or none (no partition, a backfill's first run)."""
    assert tagged_months(run_tags("2026-06", "2026-08", AS_OF)) == ["2026-06", "2026-07", "2026-08"]
    assert tagged_months({"dagster/partition": "2026-03"}) == ["2026-03"]
    assert tagged_months({}) == [] and tagged_months({"dagster/partition": "March"}) == []


def test_the_first_run_of_a_backfill_from_the_asset_graph_tells_the_backfill_s_months(
        settings: Settings, broken: Path, instance, http: HttpRecorder, monkeypatch, caplog) -> None:
    """*Materialize all* in the asset graph over 2026-06..2026-07: the backfill's first run
    loads and builds the facts, names no month, and is tagged with the backfill's id; the
    instance holds the backfill and the months it targets, as the UI's launch writes them."""
    import time

    from dagster._core.execution.backfill import PartitionBackfill
    from dagster._core.storage.tags import BACKFILL_ID_TAG

    webhook_for_both_revisions(settings, http.url(), monkeypatch)
    defs = definitions(settings, broken)
    graph = defs.get_repository_def().asset_graph
    instance.add_backfill(PartitionBackfill.from_asset_partitions(
        backfill_id="bfjunejuly", asset_graph=graph, partition_names=["2026-06", "2026-07"],
        asset_selection=sorted(graph.materializable_asset_keys), backfill_timestamp=time.time(), tags={},
        dynamic_partitions_store=instance, all_partitions=False, title=None, description=None, run_config=None))
    cursor = tick(defs, instance, None).cursor
    inputs = dg.AssetSelection.groups(GROUP_INPUTS).resolve(defs.resolve_asset_graph())
    first = defs.resolve_job_def("funnelpact_job").get_subset(asset_selection=inputs).execute_in_process(
        instance=instance, tags={BACKFILL_ID_TAG: "bfjunejuly"}, raise_on_error=False)
    assert not first.success
    context = dg.build_sensor_context(instance=instance, cursor=cursor, repository_def=defs.get_repository_def())
    told = defs.get_unresolved_sensor_def(SENSOR_NAME).evaluate_tick(context)
    assert [r.error for r in told.dagster_run_reactions] == [None]
    [post] = http.posts
    assert (post.json()["run_id"], post.json()["months"]) == (first.run_id, ["2026-06", "2026-07"])
    assert post.json()["agreements"] == [{"agreement": "acme", "revision": "2026-h1"},
                                         {"agreement": "acme", "revision": "2026-h2"}]

    # A backfill the instance no longer has (its runs' records kept, the backfill deleted): said,
    # and the run is told as one that names no month.
    caplog.set_level(logging.INFO, logger="pipelines")
    gone = defs.resolve_job_def("funnelpact_job").get_subset(asset_selection=inputs).execute_in_process(
        instance=instance, tags={BACKFILL_ID_TAG: "bfdeleted"}, raise_on_error=False)
    context = dg.build_sensor_context(instance=instance, cursor=told.cursor, repository_def=defs.get_repository_def())
    assert [r.error for r in defs.get_unresolved_sensor_def(SENSOR_NAME).evaluate_tick(context).dagster_run_reactions] \
        == [None]
    assert (http.posts[1].json()["run_id"], http.posts[1].json()["months"]) == (gone.run_id, [])
    assert any(r.levelno == logging.WARNING and r.getMessage().startswith(
        f"the months of backfill bfdeleted, whose run {gone.run_id} failed, cannot be read (LookupError: the "
        "instance no longer has it): telling the revisions in force in the current month") for r in caplog.records)


def test_the_revisions_told_are_those_of_the_run_s_months_else_those_in_force_in_the_current_month(
        settings: Settings) -> None:
    agreements = load_agreements(settings.sla_dir)
    # 2026-07-01 03:00 UTC is still June in Mexico City.
    assert [a.revision for a in concerned(agreements, [], datetime(2026, 7, 1, 3, tzinfo=UTC))] == ["2026-h1"]
    assert [a.revision for a in concerned(agreements, [], datetime(2027, 2, 1, tzinfo=UTC))] == []
    assert [a.revision for a in concerned(agreements, ["2026-06", "2026-07"], datetime(2027, 2, 1, tzinfo=UTC))] == [
        "2026-h1", "2026-h2"]


def test_the_daemon_tells_a_failed_run_it_launched_and_not_a_failed_cli_run(
        settings: Settings, broken: Path, tmp_path: Path, http: HttpRecorder, monkeypatch) -> None:
    """The sensor as users get it: on by default in `dagster-daemon run` (docs/operations.md).
    A run the daemon launched (what the schedule's tick does) is told once; `funnelpact run`'s
    in-process run, which failed before it, belongs to no code location: the command tells it,
    and the sensor does not tell it again."""
    import json
    import subprocess
    import sys

    from typer.testing import CliRunner

    from pipelines.cli import app
    from tests.defs.test_dagster_ui_and_daemon import DEADLINE, ROOT as CHECKOUT, webserver_and_daemon

    webhook_for_both_revisions(settings, http.url(), monkeypatch)
    monkeypatch.setenv("FUNNELPACT_DATA_DIR", str(broken))
    first = CliRunner().invoke(app, ["run", "--from", "2026-03", "--to", "2026-03", "--as-of", AS_OF.isoformat()])
    assert first.exit_code == 2, first.output   # prepares the home; the broken file fails it
    workspace = str(CHECKOUT / "workspace.yaml")
    with webserver_and_daemon(tmp_path) as dagster:
        dagster.start("dagster-daemon", "run", "-w", workspace)
        dagster.wait_for("the sensor's first tick", lambda: "Initiating funnelpact_run_failure" in (
            tmp_path / "dagster-daemon.log").read_text(), deadline=120)
        cli = CliRunner().invoke(app, ["run", "--from", "2026-03", "--to", "2026-03", "--as-of", AS_OF.isoformat()])
        assert cli.exit_code == 2, cli.output
        queued = subprocess.run([sys.executable, "-m", "dagster", "job", "launch", "-w", workspace, "-j", "funnelpact_job",
                                 "--tags", json.dumps(run_tags("2026-07", "2026-07", AS_OF))], env=dagster.env,
                                cwd=settings.home.parent, capture_output=True, text=True, timeout=300)
        assert queued.returncode == 0, queued.stdout[-3000:] + queued.stderr[-3000:]
        [post] = dagster.wait_for("the sensor's message", lambda: [
            p for p in http.posts if p.json()["months"] == ["2026-07"]], deadline=DEADLINE)
    with dg.DagsterInstance.get() as instance:
        failed = {r.run_id: r for r in instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))}
    [launched] = [r for r in failed.values() if r.remote_job_origin is not None]
    assert len(failed) == 3, "two CLI runs and the daemon's failed"
    assert (post.json()["run_id"], post.json()["step"], post.json()["months"]) == (launched.run_id, "raw_crm", ["2026-07"])
    # Each run told once: the CLI's by the command (before the daemon's run failed, so the
    # sensor, which tells in the order runs failed, would have told the second first).
    assert sorted(p.json()["run_id"] for p in http.posts) == sorted(failed), [p.json() for p in http.posts]
