"""docs/alerts.md documents every channel setting; the channel probe reaches real servers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args


from pipelines.agreement.model import Alert
from pipelines.alerts import dispatch
from pipelines.alerts.probe import probe

from .loopback import FAST, WEBHOOK, HttpRecorder, SmtpRecorder, agreement, kpi

DOC = Path(__file__).resolve().parents[2] / "docs" / "alerts.md"


def test_every_channel_and_setting_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for model in get_args(get_args(Alert)[0]):
        for name in model.model_fields:
            assert f"`{name}`" in text, f"{model.__name__}.{name} is not documented in docs/alerts.md"
        channel = get_args(model.model_fields["channel"].annotation)[0]
        assert re.search(rf"^### `{channel}`", text, re.M), f"no section for channel {channel}"


def test_the_webhook_body_has_exactly_the_fields_the_docs_list(tmp_path: Path, http: HttpRecorder) -> None:
    """Receivers are written against the documented field names: a renamed or new field shows here."""
    text = DOC.read_text(encoding="utf-8")
    body = text.split("The body is the whole alert as JSON", 1)[1].split("The header `Idempotency-Key`", 1)[0]
    documented = set(re.findall(r"`([a-z_]+)`", body)) - {"breach", "at_risk", "recovered"}  # values of `kind`
    dispatch([kpi("breach", 120)], [agreement([WEBHOOK])], tmp_path / "alerts.sqlite",
             {"TEST_ALERT_WEBHOOK": http.url("/webhook")}, retry=FAST)
    [post] = http.posts
    assert set(post.json()) == documented


def test_the_probe_sends_a_marked_test_alert_to_every_channel(http: HttpRecorder, smtp: SmtpRecorder) -> None:
    acme = agreement([
        {"channel": "slack", "webhook_url_env": "HOOK"},
        {"channel": "email", "to": ["revops@acme.example"], "smtp_url_env": "SMTP"},
        {"channel": "webhook", "url_env": "UNSET"},
    ])
    result = probe(acme, {"HOOK": http.url(), "SMTP": smtp.url()}, timeout=2)
    assert result == {
        "slack:HOOK": None,
        "email:SMTP:revops@acme.example": None,
        "webhook:UNSET": "environment variable UNSET is not set: it must hold the URL that receives alert POSTs",
    }
    assert http.posts[0].json()["text"].startswith("Test alert: volume:test in 2026-01 (acme 2026-h1)")
    assert smtp.mails[0].message["Subject"].startswith("[funnelpact] Test alert:")
