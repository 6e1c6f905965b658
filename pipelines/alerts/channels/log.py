"""The log channel: one line per alert (or failed run) on the `pipelines.alerts` logger."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pipelines.alerts.events import RUN_FAILURE, Notice

logger = logging.getLogger("pipelines.alerts")


def one_line(text: str) -> str:
    """`text` with what is not printable (a line break, an ESC) as its escape (\\n, \\x1b): an
    owner's name is free text in the agreement, and a line break in it wrote a second,
    made-up line into the run's log."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


# A recovery is good news; a failed run left months unjudged, which a breach does not.
LEVELS = {"recovered": logging.INFO, RUN_FAILURE: logging.ERROR}


def send_log(event: Notice, settings: Mapping[str, Any], env: Mapping[str, str], timeout: float) -> str:
    level = LEVELS.get(event.kind, logging.WARNING)
    facts = "; ".join(f"{k.lower()}={one_line(v)}" for k, v in event.facts())
    logger.log(level, "funnelpact alert %s: %s", event.kind, facts)
    return "logged"
