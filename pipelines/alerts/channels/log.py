"""The log channel: one line per alert on the `pipelines.alerts` logger."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pipelines.alerts.events import AlertEvent

logger = logging.getLogger("pipelines.alerts")


def send_log(event: AlertEvent, settings: Mapping[str, Any], env: Mapping[str, str], timeout: float) -> str:
    level = logging.INFO if event.kind == "recovered" else logging.WARNING
    facts = "; ".join(f"{k.lower()}={v}" for k, v in event.facts())
    logger.log(level, "funnelpact alert %s: %s", event.kind, facts)
    return "logged"
