"""Tell the owning teams that a run failed: the channels of the revisions in force in the
months it was to judge, each once (docs/alerts.md, *When a run fails*).

No outbox and no alert state: a failed run is told once, by the sensor's one evaluation of
it (pipelines/defs/sensors.py) or, for a run of `funnelpact run`, `backfill` or `report`,
which the sensor never sees, by the command (pipelines/defs/execute.py, tell_failure), with
the retries of a delivery within it; a delivery that still fails is logged, not tried again
(the sensor's cursor has moved past the run, the command has ended).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from pipelines.agreement.model import Agreement
from pipelines.agreement.months import month_of
from pipelines.alerts.channels import channel_key
from pipelines.alerts.deliver import FALLBACK_CHANNELS, RetryPolicy, allowed_channels, attempt, channels_of
from pipelines.alerts.events import RunFailure
from pipelines.alerts.state import iso
from pipelines.settings import ALERT_CHANNELS_ENV

logger = logging.getLogger("pipelines.alerts")

# A receiver's Retry-After longer than the retries wait: there is no next run for this message
# (the tick's NotTold and the log say it is not tried again).
TOO_LONG = "longer than a failed run's message waits ({max_delay:g} s)"
# A channel the time for telling a run ran out before (channels that did not answer used it up).
OUT_OF_TIME = "not attempted: the time given to a failed run's message ran out"


@dataclass
class Told:
    """What became of a failed run's message, per channel key."""

    sent: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # channel key -> the last reason
    held: list[str] = field(default_factory=list)  # channel keys of a kind $FUNNELPACT_ALERT_CHANNELS leaves out


def concerned(agreements: list[Agreement], months: list[str], now: datetime) -> list[Agreement]:
    """The revisions in force in `months`; without months (a run that named none), those in
    force in the current month, each in its own timezone."""
    if months:
        return [a for a in agreements if any(m in a.months() for m in months)]
    return [a for a in agreements if month_of(now, a.spec.timezone) in a.months()]


# Per network call, as a KPI alert's delivery (deliver.dispatch).
TIMEOUT_SECONDS = 5.0
# Dagster gives a sensor's tick 60 s (DAGSTER_SENSOR_GRPC_TIMEOUT_SECONDS); a tick that outlasts it
# fails without moving the cursor, and the next told the same runs again, twice to the channels
# that had answered. Telling stops at 40 s: room for Dagster's own work and a last call's overrun.
# `funnelpact run` gives its own failure as long: someone, or cron, waits for the command.
TICK_SECONDS = 40.0
# An error's first line, cut: a Slack field holds 2,000 characters, and a message is read on a phone.
ERROR_CHARS = 300
# A failed run's network channels are tried at the same time: one after the other, each that
# never answered cost 18 s (3 tries of 5 s), and with three such a run used the sensor's 40 s
# tick and the channels after them were not attempted. An agreement names a handful; the bound
# keeps a long list from opening that many connections at once.
AT_ONCE = 8


def message(run_id: str, job: str, step: str | None, error: str, months: list[str], agreements: list[Agreement],
            now: datetime, as_of: datetime | None) -> tuple[RunFailure, list[Agreement]]:
    """The message of run `run_id` of `job` that failed (in `step`, None outside its steps, with
    `error`) to the revisions of `agreements` in force in `months`, and those revisions."""
    revisions = concerned(agreements, months, now)
    return RunFailure(
        run_id=run_id, job=job, step=step, error=first_line(error), months=tuple(months),
        revisions=tuple((a.name, a.revision) for a in revisions), detected_at=iso(now),
        as_of=iso(as_of) if as_of else "",
    ), revisions


def first_line(text: str) -> str:
    line = (text.strip().splitlines() or [""])[0].strip()
    return line if len(line) <= ERROR_CHARS else line[:ERROR_CHARS - 1] + "…"


def tell(failure: RunFailure, revisions: list[Agreement], env: Mapping[str, str] | None = None, *,
         retry: RetryPolicy = RetryPolicy(), deadline: float | None = None) -> Told:
    """Deliver `failure` once to each distinct channel of `revisions` (the log when they name
    none, or when no revision is in force), as a KPI alert's delivery is tried: `retry`
    attempts, TIMEOUT_SECONDS per network call, secrets from `env` (default: `os.environ`).
    The network channels are tried at the same time, up to AT_ONCE. `deadline` (a
    `time.monotonic()` instant, None for none) bounds them: none is tried past it, those still
    waiting for their turn by then are not attempted. The log, which cannot hang, is told all
    the same. `Told` lists the channels in the revisions' order, however the deliveries ended."""
    # A copy: a delivery's thread can outlive a Ctrl-C (at_once) and must not read settings changed since.
    env = dict(os.environ) if env is None else env
    allowed = allowed_channels(env)
    channels: dict[str, dict[str, Any]] = {}
    for settings in [c for a in revisions for c in channels_of(a)] or FALLBACK_CHANNELS:
        channels.setdefault(channel_key(settings), settings)
    told = Told(held=[key for key, settings in channels.items()
                      if allowed is not None and settings["channel"] not in allowed])
    asked = {key: settings for key, settings in channels.items() if key not in told.held}

    def deliver(settings: dict[str, Any]) -> str | None:
        limit = None if settings["channel"] == "log" else deadline
        if limit is not None and time.monotonic() >= limit:
            return OUT_OF_TIME
        # Safe from several threads: `attempt` and the senders keep no state between calls (a
        # connection, TLS context and opener each), and only read `env` and `failure`.
        return attempt([failure], settings, env, retry, TIMEOUT_SECONDS, time.sleep, too_long=TOO_LONG,
                       deadline=limit)[1]

    # The log in this thread, as before: its line goes to the tick's log from the thread
    # Dagster gave the sensor.
    logged = {key: deliver(settings) for key, settings in asked.items() if settings["channel"] == "log"}
    sent = at_once({key: partial(deliver, settings) for key, settings in asked.items() if key not in logged})
    errors = {key: (logged | sent)[key] for key in asked}  # in the channels' order
    for key, error in errors.items():
        if error is None:
            told.sent.append(key)
        else:
            told.failed[key] = error
            logger.warning("the failure of %s was not told to %s (not tried again): %s", failure.named(), key, error)
    if told.held:
        logger.info("the failure of %s was held back from %s (%s)", failure.named(), ", ".join(told.held),
                    ALERT_CHANNELS_ENV)
    return told


T = TypeVar("T")


def at_once(calls: Mapping[str, Callable[[], T]]) -> dict[str, T]:
    """Each call's result, the calls made AT_ONCE at a time, each in a thread of its own; the
    first exception a call raised is raised here. Daemon threads, not a pool's: Python joins a
    pool's threads before a Ctrl-C leaves its `with`, and again at exit, so an interrupt at the
    terminal waited for a channel that never answers."""
    slots = threading.BoundedSemaphore(AT_ONCE)
    ended: dict[str, tuple[bool, Any]] = {}

    def run(key: str, call: Callable[[], T]) -> None:
        with slots:
            try:
                ended[key] = True, call()
            except BaseException as exc:  # raised in the caller's thread, below
                ended[key] = False, exc

    threads = [threading.Thread(target=run, args=(key, call), name=f"funnelpact-tell-{key}", daemon=True)
               for key, call in calls.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()  # a Ctrl-C interrupts it
    for key in calls:
        done, value = ended[key]
        if not done:
            raise value
    return {key: ended[key][1] for key in calls}
