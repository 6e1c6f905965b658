"""Alerts from real runs of the job: the sla/ channels, real loopback servers, two runs."""

from __future__ import annotations

import html
import json
import logging

import pytest
from typer.testing import CliRunner

from pipelines.alerts.channels.slack import DIGEST_SIZE
from pipelines.cli import app
from pipelines.settings import Settings

from .loopback import HttpRecorder, SmtpRecorder

pytestmark = pytest.mark.slow
ALERTING = ("breach", "at_risk")


def messages(alerts: int) -> int:
    """The Slack messages that carry so many alerts."""
    return -(-alerts // DIGEST_SIZE)


def run(as_of: str, stderr: list[str] | None = None) -> dict[tuple[str, str], str]:
    result = CliRunner().invoke(app, ["run", "--as-of", as_of, "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    if stderr is not None:
        stderr.append(" ".join(result.stderr.split()))
    return {(r["period"], r["kpi"]): r["status"] for r in json.loads(result.stdout)["results"]}


def test_alerts_reach_slack_and_email_once_per_status_change_across_two_daily_runs(
    settings: Settings, http: HttpRecorder, smtp: SmtpRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The example agreements alert Slack and e-mail through these variables.
    monkeypatch.setenv("FUNNELPACT_SLACK_WEBHOOK", http.url())
    monkeypatch.setenv("FUNNELPACT_SMTP_URL", smtp.url())
    stderr: list[str] = []
    first = run("2026-08-20T12:00:00Z", stderr)
    announced = {key: status for key, status in first.items() if status in ALERTING}
    assert announced, "the generated company should miss some targets"
    # Slack and e-mail take a run's alerts as one digest (Slack's of at most DIGEST_SIZE).
    assert (len(http.posts), len(smtp.mails)) == (messages(len(announced)), 1)
    # The terminal counts alerts, and apart the deliveries: one per channel (Slack, e-mail and
    # log in sla/). "alerts: 39 sent" for 13 alerts read as 39 alerts.
    assert (f"alerts: {len(announced)} new; deliveries: {3 * len(announced)} sent, 0 failed, "
            "0 kept for the next run") in stderr[0]
    # Slack escapes <, > and &: lead->mql arrives as lead-&gt;mql.
    # Each alert's title is a line of the notification text.
    titles = [line for post in http.posts for line in html.unescape(post.json()["text"]).splitlines()]
    for period, kpi in announced:
        assert any(f"{kpi} in {period}" in title for title in titles), (period, kpi)

    # A day later only changes are announced: new breaches or risks, and recoveries.
    second = run("2026-08-21T12:00:00Z")
    changes = [
        key for key, status in second.items()
        if (status in ALERTING and announced.get(key) != status)
        or (status == "met" and key in announced)
    ]
    posts = messages(len(announced)) + messages(len(changes))
    assert (len(http.posts), len(smtp.mails)) == (posts, 1 + bool(changes))
    titles = [line for post in http.posts[messages(len(announced)):]
              for line in html.unescape(post.json()["text"]).splitlines()]
    for period, kpi in changes:
        assert any(f"{kpi} in {period}" in title for title in titles), (period, kpi)

    # The same day again: nothing new at all.
    run("2026-08-21T12:00:00Z", stderr)
    assert len(http.posts) == posts
    assert "alerts: 0 new; deliveries: 0 sent" in stderr[1]

    # A backfill of what was knowable a month earlier (July still open, judged on pace) is
    # history: no alert, and the next day's run does not announce again what it had announced.
    result = CliRunner().invoke(app, ["backfill", "--from", "2026-06", "--to", "2026-07",
                                      "--as-of", "2026-07-20T12:00:00Z", "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    earlier = {(r["period"], r["kpi"]): r["status"] for r in json.loads(result.stdout)["results"]}
    assert any(earlier[key] != second[key] and earlier[key] in ALERTING for key in earlier), \
        "the backfill should judge some KPI otherwise than the daily run, or it tests nothing"
    assert len(http.posts) == posts
    third = run("2026-08-21T12:00:00Z")
    assert third == second and len(http.posts) == posts


def test_the_log_channel_s_alerts_are_in_the_run_s_log(settings: Settings) -> None:
    """What the UI shows of a run the daemon launched: the alerts step's log holds each
    log-channel alert (sla/ lists the channel) and the failed deliveries, at their levels.
    They went only to the process's stderr before (Python's last resort handler)."""
    import dagster as dg

    from pipelines.defs.build import build_definitions

    instance = dg.DagsterInstance.ephemeral()
    result = build_definitions(settings).resolve_job_def("funnelpact_job").execute_in_process(
        instance=instance, partition_key="2026-03", tags={"funnelpact/as_of": "2026-08-20T12:00:00+00:00"})
    assert result.success
    lines = [(e.level, e.user_message) for e in instance.all_logs(result.run_id)
             if not e.is_dagster_event and e.step_key == "alerts"]
    breaches = [m for level, m in lines if "funnelpact alert breach: " in m and "month=2026-03" in m]
    assert breaches, lines
    assert {level for level, m in lines if m in breaches} == {logging.WARNING}
    # The Slack and e-mail variables are not set here: those deliveries failed, and say why.
    assert any("FUNNELPACT_SLACK_WEBHOOK is not set" in m for _, m in lines)


def test_at_risk_alerts_wait_for_the_agreed_days_of_the_month_in_a_daily_run(
    settings: Settings, http: HttpRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`at_risk_after_days: 3` in sla/: the run at 06:00 on August 1st (Mexico City) shows its
    forecasts as at_risk and announces none of them; the run on the 4th announces those still
    at risk, and the closed July's breaches went out at once."""
    h2 = settings.sla_dir / "acme-2026-h2.yaml"
    h2.write_text(h2.read_text()
                  .replace("default: {tolerance: 0.05, severity: fail}",
                           "default: {tolerance: 0.05, severity: fail, at_risk_after_days: 3}")
                  .replace("    - {channel: log}", "    - {channel: webhook, url_env: FUNNELPACT_ALERT_WEBHOOK}"))
    monkeypatch.setenv("FUNNELPACT_ALERT_WEBHOOK", http.url())

    def announced() -> list[tuple[str, str]]:
        return [(p.json()["period"], p.json()["kind"]) for p in http.posts]

    first = run("2026-08-01T12:00:00Z")
    at_risk = {kpi for (period, kpi), status in first.items() if period == "2026-08" and status == "at_risk"}
    assert at_risk, "a forecast from a quarter of a day should put some KPI at risk, or this tests nothing"
    assert ("2026-07", "breach") in announced() and not [a for a in announced() if a[0] == "2026-08"]

    fourth = run("2026-08-04T12:00:00Z")
    still = {kpi for (period, kpi), status in fourth.items() if period == "2026-08" and status == "at_risk"}
    assert still, "some KPI should still be at risk on the 4th, or the wait's end is not tested"
    august = [a for a in announced() if a[0] == "2026-08"]
    assert august == [("2026-08", "at_risk")] * len(still)
