"""Alerts over TLS against real servers on loopback: https for Slack and webhooks, smtps:// and
STARTTLS for e-mail, with certificates of a test certificate authority made for the session and
trusted as a user trusts their company's own: SSL_CERT_FILE."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.alerts import dispatch
from pipelines.alerts.channels.slack import slack_payload
from pipelines.cli import app

from .loopback import (
    EMAIL,
    FAST,
    SLACK,
    WEBHOOK,
    HttpRecorder,
    Pki,
    SmtpRecorder,
    agreement,
    kpi,
)

ROOT = Path(__file__).resolve().parents[2]


def deliver(channels: list[dict], env: dict[str, str], tmp_path: Path):  # type: ignore[no-untyped-def]
    """One breach dispatched to `channels`: the report, and the waits between retries."""
    waits: list[float] = []
    report = dispatch([kpi("breach", 120)], [agreement(channels)], tmp_path / "alerts.sqlite", env,
                      retry=FAST, timeout=5, sleep=waits.append)
    return report, waits


# -- delivered ---------------------------------------------------------------------------------

def test_slack_and_webhook_alerts_arrive_intact_over_https(https: HttpRecorder, trusted: Path, tmp_path: Path) -> None:
    report, _ = deliver([SLACK, WEBHOOK], {"TEST_SLACK_WEBHOOK": https.url("/services/T0/B0/token"),
                                           "TEST_ALERT_WEBHOOK": https.url("/alerts")}, tmp_path)
    assert (report.sent, report.failures) == (2, [])
    [event] = report.alerts
    posts = {post.path: post for post in https.posts}
    assert posts["/services/T0/B0/token"].json() == slack_payload(event)
    assert posts["/alerts"].json() == event.to_dict()
    assert posts["/alerts"].headers["Idempotency-Key"] == event.alert_id


@pytest.mark.parametrize("server", ["smtps", "starttls"])
def test_an_email_arrives_intact_over_tls_after_logging_in(
    server: str, request: pytest.FixtureRequest, trusted: Path, tmp_path: Path
) -> None:
    """The STARTTLS server offers AUTH only once the connection is encrypted, as submission
    servers do: the login, and the mail, went over TLS."""
    smtp: SmtpRecorder = request.getfixturevalue(server)
    report, _ = deliver([EMAIL], {"TEST_SMTP_URL": smtp.url("bot:s3cret@")}, tmp_path)
    assert (report.sent, report.failures) == (1, [])
    [event] = report.alerts
    [mail] = smtp.mails
    assert smtp.logins == [("bot", "s3cret")] and mail.tls
    assert (mail.recipients, mail.message["Subject"]) == (["revops@acme.example"], f"[funnelpact] {event.title()}")
    assert mail.part("plain").replace("\r\n", "\n").startswith(event.text())


@pytest.mark.parametrize("server", ["https", "smtps", "starttls"])
def test_test_alerts_reaches_each_tls_channel(server: str, request: pytest.FixtureRequest, trusted: Path,
                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = request.getfixturevalue(server)
    if server == "https":  # the webhook, as Slack is in the next test
        channel, variable = "{channel: webhook, url_env: FUNNELPACT_ALERT_WEBHOOK}", "FUNNELPACT_ALERT_WEBHOOK"
        monkeypatch.setenv(variable, recorder.url())
    else:
        channel, variable = "{channel: email, to: [revops@acme.example], smtp_url_env: FUNNELPACT_SMTP_URL}", \
            "FUNNELPACT_SMTP_URL"
        monkeypatch.setenv(variable, recorder.url("bot:s3cret@"))
    text = (ROOT / "sla" / "acme-2026-h2.yaml").read_text()
    start = text.index("  alerts:\n")
    end = text.index("\n", text.index("{channel: log}", start))
    (tmp_path / "acme.yaml").write_text(text[:start] + f"  alerts:\n    - {channel}" + text[end:])
    result = CliRunner().invoke(app, ["test-alerts", "--sla", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"acme 2026-h2 {channel.split(',')[0].split()[-1]}:{variable}" in result.output
    assert len(recorder.posts if server == "https" else recorder.mails) == 1


def test_test_alerts_run_as_a_command_trusts_the_ca_of_ssl_cert_file(
    https: HttpRecorder, smtps: SmtpRecorder, pki: Pki
) -> None:
    """The variable as a user exports it, read by a process of its own: Slack over https and
    e-mail over smtps, the agreement's two channels."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FUNNELPACT_SLACK_WEBHOOK": https.url(),
           "FUNNELPACT_SMTP_URL": smtps.url(), "SSL_CERT_FILE": str(pki.ca_file)}
    done = subprocess.run([sys.executable, "-c", "from pipelines.cli import main; main()", "test-alerts",
                           "--sla", str(ROOT / "sla"), "--revision", "2026-h2"],
                          capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "slack:FUNNELPACT_SLACK_WEBHOOK: sent" in done.stdout
    assert "email:FUNNELPACT_SMTP_URL:revops@acme.example: sent" in done.stdout
    assert len(https.posts) == 1 and len(smtps.mails) == 1

