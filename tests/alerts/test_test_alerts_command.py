"""`funnelpact test-alerts` against real loopback servers."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli import app

from .loopback import HttpRecorder, SmtpRecorder

SLA = Path(__file__).resolve().parents[2] / "sla"


def test_every_channel_of_the_revision_gets_a_test_alert(
    http: HttpRecorder, smtp: SmtpRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FUNNELPACT_SLACK_WEBHOOK", http.url())
    monkeypatch.setenv("FUNNELPACT_SMTP_URL", smtp.url())
    result = CliRunner().invoke(app, ["test-alerts", "--sla", str(SLA), "--revision", "2026-h2"])
    assert result.exit_code == 0, result.output
    assert len(http.posts) == 1 and len(smtp.mails) == 1
    assert "2026-h2" in http.posts[0].json()["text"]
    assert "slack:FUNNELPACT_SLACK_WEBHOOK: sent" in result.output


def test_a_channel_without_its_secret_fails_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FUNNELPACT_SLACK_WEBHOOK", raising=False)
    monkeypatch.delenv("FUNNELPACT_SMTP_URL", raising=False)
    result = CliRunner().invoke(app, ["test-alerts", "--sla", str(SLA), "--revision", "2026-h1"])
    assert result.exit_code == 1
    assert "FUNNELPACT_SLACK_WEBHOOK is not set" in result.output
    # One line per channel, also the e-mail one of 170 characters: a log or pipe is grepped.
    assert [line.split(": ")[0] for line in result.output.splitlines()] == [
        "acme 2026-h1 slack:FUNNELPACT_SLACK_WEBHOOK", "acme 2026-h1 email:FUNNELPACT_SMTP_URL:revops@acme.example",
        "acme 2026-h1 log"], result.output


def test_a_channel_listed_twice_gets_one_test_alert_as_it_gets_each_real_one_once(
    http: HttpRecorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (SLA / "acme-2026-h2.yaml").read_text()
    slack = "    - {channel: slack, webhook_url_env: FUNNELPACT_SLACK_WEBHOOK}\n"
    assert slack in text
    (tmp_path / "acme.yaml").write_text(text.replace(slack, slack * 2))
    monkeypatch.setenv("FUNNELPACT_SLACK_WEBHOOK", http.url())
    monkeypatch.setenv("FUNNELPACT_SMTP_URL", "smtp://127.0.0.1:9")  # refused at once: not this test's concern
    result = CliRunner().invoke(app, ["test-alerts", "--sla", str(tmp_path)])
    assert len(http.posts) == 1, result.output
    assert result.output.count("slack:FUNNELPACT_SLACK_WEBHOOK: sent") == 1


def test_a_missing_agreement_folder_is_bad_input(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["test-alerts", "--sla", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "no such file or folder" in result.output


def test_an_unknown_revision_is_bad_input_naming_the_known_ones(http: HttpRecorder) -> None:
    result = CliRunner().invoke(app, ["test-alerts", "--sla", str(SLA), "--revision", "2026-h3"])
    assert result.exit_code == 2
    assert "no revision '2026-h3'" in result.output and "expected one of 2026-h1, 2026-h2" in result.output
    assert http.posts == []


def test_a_webhook_url_a_request_cannot_carry_is_a_failed_channel_without_its_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It ended the command as a bug, quoting the URL's path with its token."""
    (tmp_path / "acme.yaml").write_text((SLA / "acme-2026-h2.yaml").read_text())
    monkeypatch.setenv("FUNNELPACT_SLACK_WEBHOOK", "https://hooks.slack.com/services/T000/B000/XXXX SECRET")
    monkeypatch.setenv("FUNNELPACT_SMTP_URL", "smtp://127.0.0.1:9")
    result = CliRunner().invoke(app, ["--debug", "test-alerts", "--sla", str(tmp_path)])
    assert result.exit_code == 1 and "SECRET" not in result.output, result.output
    assert "slack:FUNNELPACT_SLACK_WEBHOOK: FAILED: the URL holds a space or a control character" in result.output
