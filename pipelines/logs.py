"""Where funnelpact's own log lines go during a run: the log channel's alerts and the
deliveries that failed, on the `pipelines` logger (pipelines/alerts/)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

LOGGER = "pipelines"


@contextmanager
def routed_to(handler: logging.Handler) -> Iterator[None]:
    """Send the `pipelines` logger's lines, INFO and up, to `handler` while the block runs.

    INFO, not Python's default (WARNING, inherited from the root logger): the log channel
    writes a recovery at INFO, and at WARNING it reached no handler while its delivery
    counted as sent and the dedup marked it announced, so no one was ever told.
    """
    logger = logging.getLogger(LOGGER)
    level = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


class RunLogHandler(logging.Handler):
    """Each line into a Dagster run's log (`context.log`), at its level: a run the daemon
    launched has no other handler, and Python's last resort wrote WARNING lines only to the
    process's stderr, not to the run's log in the UI."""

    def __init__(self, run_log: logging.Logger):
        super().__init__()
        self._run_log = run_log

    def emit(self, record: logging.LogRecord) -> None:
        self._run_log.log(record.levelno, self.format(record))
