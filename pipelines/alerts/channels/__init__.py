"""Alert channels. Each sender takes (event, settings, env, timeout) and returns a short
receipt, or raises `DeliveryError`; settings are the agreement's channel entry as a dict.

Secrets are read from `env` at send time, never stored: the outbox keeps only the names of the
environment variables, so a fixed variable fixes the pending deliveries too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pipelines.alerts.channels.base import DeliveryError, secret
from pipelines.alerts.channels.log import send_log
from pipelines.alerts.channels.mail import send_email
from pipelines.alerts.channels.slack import send_slack
from pipelines.alerts.channels.webhook import send_webhook
from pipelines.alerts.events import AlertEvent

Sender = Callable[[AlertEvent, Mapping[str, Any], Mapping[str, str], float], str]

SENDERS: dict[str, Sender] = {
    "slack": send_slack,
    "email": send_email,
    "webhook": send_webhook,
    "log": send_log,
}


def channel_key(settings: Mapping[str, Any]) -> str:
    """A readable, stable name for one configured channel: what the report and outbox count by.
    An e-mail's recipients in any order, each however often written, are the same channel (as
    diff compares them): reordered in the agreement, its undelivered alerts were dropped as sent
    to a channel no longer there."""
    kind = settings["channel"]
    if kind == "slack":
        return f"slack:{settings['webhook_url_env']}"
    if kind == "email":
        return f"email:{settings['smtp_url_env']}:{','.join(sorted(set(settings['to'])))}"
    if kind == "webhook":
        return f"webhook:{settings['url_env']}"
    return kind


def send(event: AlertEvent, settings: Mapping[str, Any], env: Mapping[str, str], timeout: float) -> str:
    sender = SENDERS.get(settings.get("channel", ""))
    if sender is None:
        raise DeliveryError(f"unknown channel {settings.get('channel')!r}", retryable=False)
    return sender(event, settings, env, timeout)


__all__ = ["DeliveryError", "SENDERS", "channel_key", "secret", "send"]
