"""Alert channels. Each sender takes (event, settings, env, timeout) and returns a short
receipt, or raises `DeliveryError`; settings are the agreement's channel entry as a dict.
Slack and e-mail also take several alerts as one message (a digest, pipelines/alerts/digest.py).
Each also takes a `RunFailure` (pipelines/alerts/events.py) in an alert's place: a failed run,
told through the same channels.

Secrets are read from `env` at send time, never stored: the outbox keeps only the names of the
environment variables, so a fixed variable fixes the pending deliveries too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pipelines.alerts.channels.base import DeliveryError, secret
from pipelines.alerts.channels.log import send_log
from pipelines.alerts.channels.mail import send_email, send_email_digest
from pipelines.alerts.channels.slack import DIGEST_SIZE, send_slack, send_slack_digest
from pipelines.alerts.channels.webhook import send_webhook
from pipelines.alerts.digest import Part
from pipelines.alerts.events import AlertEvent, Notice

Sender = Callable[[Notice, Mapping[str, Any], Mapping[str, str], float], str]
# (alerts, settings, env, timeout, part: (n, of) when a digest was cut into several messages)
DigestSender = Callable[[Sequence[AlertEvent], Mapping[str, Any], Mapping[str, str], float, Part], str]

SENDERS: dict[str, Sender] = {
    "slack": send_slack,
    "email": send_email,
    "webhook": send_webhook,
    "log": send_log,
}

# Channels people read take the alerts one dispatch delivers to them as one message, of at most
# so many alerts (None: any number): forty alerts were forty Slack posts, which Slack answers
# with HTTP 429, and forty e-mails. The webhook (machines read one JSON object per alert) and
# the log (one line per alert) keep one per alert.
DIGESTS: dict[str, tuple[DigestSender, int | None]] = {
    "slack": (send_slack_digest, DIGEST_SIZE),
    "email": (send_email_digest, None),
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


def send(event: Notice, settings: Mapping[str, Any], env: Mapping[str, str], timeout: float) -> str:
    sender = SENDERS.get(settings.get("channel", ""))
    if sender is None:
        raise DeliveryError(f"unknown channel {settings.get('channel')!r}", retryable=False)
    return sender(event, settings, env, timeout)


def per_message(settings: Mapping[str, Any]) -> int | None:
    """How many alerts one message to this channel may carry; None: any number."""
    kind = settings.get("channel", "")
    return DIGESTS[kind][1] if kind in DIGESTS else 1


def send_all(events: Sequence[Notice], settings: Mapping[str, Any], env: Mapping[str, str], timeout: float,
             part: Part = None) -> str:
    """`events` in one message: the channel's own message for one alert, a digest for more
    (at most `per_message(settings)` of them; `part` of the messages this run sends it)."""
    if len(events) == 1:
        return send(events[0], settings, env, timeout)
    return DIGESTS[settings["channel"]][0](events, settings, env, timeout, part)


__all__ = ["DeliveryError", "SENDERS", "channel_key", "per_message", "secret", "send", "send_all"]
