"""Send one clearly-marked test alert to every channel of an agreement, without touching state.

    python -m pipelines.alerts --sla sla/ [--revision 2026-h1]

A channel set-up is checked end to end (variable set, URL right, server reachable) before the
first real breach depends on it.
"""

from __future__ import annotations

import argparse
import os
import sys
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
        try:
            send(event, settings, env, timeout)
            out[channel_key(settings)] = None
        except DeliveryError as exc:
            out[channel_key(settings)] = exc.reason
    return out


def main(argv: list[str] | None = None) -> int:
    import logging

    from pipelines.agreement.load import load_agreements
    from pipelines.errors import InputError

    parser = argparse.ArgumentParser(prog="python -m pipelines.alerts", description="Send a test alert to every channel.")
    parser.add_argument("--sla", default="sla", help="agreement folder or file (default: sla)")
    parser.add_argument("--revision", help="only this revision (default: every revision)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        agreements = load_agreements(args.sla)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    failed = False
    for agreement in agreements:
        if args.revision and agreement.revision != args.revision:
            continue
        if not agreement.spec.alerts:
            print(f"{agreement.name} {agreement.revision}: no alert channels (alerts are logged only)")
        for key, reason in probe(agreement).items():
            failed |= reason is not None
            print(f"{agreement.name} {agreement.revision} {key}: {'sent' if reason is None else 'FAILED: ' + reason}")
    return 1 if failed else 0
