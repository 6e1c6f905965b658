"""Send one clearly-marked test alert to every channel of an agreement, without touching state.

    funnelpact test-alerts --sla sla/ [--revision 2026-h1]

A channel set-up is checked end to end (variable set, URL right, server reachable) before the
first real breach depends on it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime

from pipelines.agreement.model import Agreement
from pipelines.alerts.channels import DeliveryError, channel_key, send
from pipelines.alerts.deliver import owners_of
from pipelines.alerts.events import AlertEvent
from pipelines.alerts.state import iso


def sample_event(agreement: Agreement, now: datetime) -> AlertEvent:
    period = agreement.months()[0]
    return AlertEvent(
        alert_id=f"{agreement.name}/{period}/volume:test/test/{iso(now)}",
        kind="test",
        agreement=agreement.name,
        revision=agreement.revision,
        period=period,
        kpi="volume:test",
        owner="shared",
        owners=owners_of(agreement, "shared"),
        target=100,
        actual=90,
        previous_status=None,
        status="breach",
        severity="warn",
        currency=agreement.spec.currency,
        detected_at=iso(now),
        extra={"test": True},
    )


def probe(agreement: Agreement, env: Mapping[str, str] | None = None, timeout: float = 5.0) -> dict[str, str | None]:
    """channel key -> None when delivered, else the reason."""
    env = os.environ if env is None else env
    event = sample_event(agreement, datetime.now(UTC))
    out: dict[str, str | None] = {}
    for settings in (a.model_dump() for a in agreement.spec.alerts):
        if channel_key(settings) in out:
            continue  # listed twice: a run delivers to it once (the outbox's key), so does the test
        try:
            send(event, settings, env, timeout)
            out[channel_key(settings)] = None
        except DeliveryError as exc:
            out[channel_key(settings)] = exc.reason
    return out

