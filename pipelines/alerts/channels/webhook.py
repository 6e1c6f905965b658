"""Generic JSON webhook: the whole event, raw numbers and formatted text, in one POST."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipelines.alerts.channels.base import post_json, secret
from pipelines.alerts.events import Notice


def send_webhook(event: Notice, settings: Mapping[str, Any], env: Mapping[str, str], timeout: float) -> str:
    url = secret(env, settings["url_env"], "the URL that receives alert POSTs")
    # Delivery is at-least-once (a timeout after the receiver got the body is retried):
    # the key lets a receiver drop the duplicate.
    return post_json(url, event.to_dict(), timeout, headers={"Idempotency-Key": event.alert_id})
