"""Turn judged KPIs into alerts and deliver them: dedup, outbox, retries with back-off.

`dispatch` never raises because a channel is down: what cannot be delivered stays in the
outbox and is retried, oldest first, by the next call — whichever way that run started.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pipelines.agreement.kpis import at_risk_after_days, kpi_label
from pipelines.agreement.load import revision_in_force
from pipelines.agreement.model import Agreement
from pipelines.agreement.months import days_elapsed, days_in_month
from pipelines.alerts.channels import SENDERS, DeliveryError, channel_key, per_message, send_all
from pipelines.alerts.digest import Part, order_key
from pipelines.alerts.events import AlertEvent, KpiStatus, Notice, Person
from pipelines.alerts.state import AlertStore, KpiState, OutboxItem, alert_kind, damage_named, iso
from pipelines.errors import InputError, Problem
from pipelines.settings import ALERT_CHANNELS_ENV

logger = logging.getLogger("pipelines.alerts")

# An agreement without alert channels still gets its alerts into the run's log.
FALLBACK_CHANNELS: list[dict[str, Any]] = [{"channel": "log"}]
# Items a running dispatch has claimed are skipped by a concurrent one for this long; a run that
# died mid-delivery frees its items after it, unless a run on its host sees it has ended
# (pipelines/alerts/holder.py) and takes them over at once.
CLAIM_LEASE = timedelta(minutes=15)


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts per delivery within one call; the delay doubles: 1 s, 2 s (then the outbox)."""

    attempts: int = 3
    base_delay: float = 1.0
    factor: float = 2.0
    max_delay: float = 10.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        return min(self.base_delay * self.factor ** (attempt - 1), self.max_delay)


@dataclass
class ChannelReport:
    sent: int = 0  # delivered by this call
    failed: int = 0  # attempted by this call and not delivered (kept in the outbox)
    pending: int = 0  # in the outbox after this call (failed now, skipped, or never attempted)
    expired: int = 0  # dropped from the outbox by this call: older than max_age
    messages: int = 0  # messages that carried the sent alerts (a Slack or e-mail digest carries several)


@dataclass(frozen=True)
class Failure:
    channel: str
    alert_id: str
    reason: str


@dataclass
class DeliveryReport:
    alerts: list[AlertEvent] = field(default_factory=list)  # raised by this call
    channels: dict[str, ChannelReport] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    unrouted: list[str] = field(default_factory=list)  # alerts with no agreement revision: logged only
    what_if: int = 0  # results judged as of a future instant: neither alerted nor recorded
    held: dict[str, int] = field(default_factory=dict)  # channel -> alerts not sent to it ($FUNNELPACT_ALERT_CHANNELS)

    def channel(self, key: str) -> ChannelReport:
        return self.channels.setdefault(key, ChannelReport())

    @property
    def sent(self) -> int:
        return sum(c.sent for c in self.channels.values())

    @property
    def failed(self) -> int:
        return sum(c.failed for c in self.channels.values())

    @property
    def pending(self) -> int:
        return sum(c.pending for c in self.channels.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "alerts": [{"alert_id": a.alert_id, "kind": a.kind, "period": a.period, "kpi": a.kpi} for a in self.alerts],
            "channels": {k: vars(v) for k, v in sorted(self.channels.items())},
            "failures": [vars(f) for f in self.failures],
            "unrouted": self.unrouted,
            "what_if": self.what_if,
            "held": dict(sorted(self.held.items())),
        }

    def summary(self) -> str:
        parts = [f"{k}: {c.sent} sent{_carried(c)}, {c.failed} failed, {c.pending} pending"
                 for k, c in sorted(self.channels.items())]
        what_if = f"; {self.what_if} judged as of a future instant, not alerted" if self.what_if else ""
        held = (f"; held back ({ALERT_CHANNELS_ENV}): " + ", ".join(f"{n} for {k}" for k, n in sorted(self.held.items()))
                if self.held else "")
        return f"{len(self.alerts)} new alert(s)" + (" — " + "; ".join(parts) if parts else "") + what_if + held


def _carried(counts: ChannelReport) -> str:
    """` in 5 messages` where a digest carried several alerts; nothing where each had its own."""
    if counts.messages in (0, counts.sent):
        return ""
    return f" in {counts.messages} message" + ("s" if counts.messages > 1 else "")


def dispatch(
    results: Iterable[KpiStatus | Mapping[str, Any]],
    agreements: list[Agreement],
    state_path: Path | str,
    env: Mapping[str, str] | None = None,
    *,
    retry: RetryPolicy = RetryPolicy(),
    timeout: float = 5.0,
    max_age: timedelta = timedelta(days=14),
    now: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryReport:
    """Record the status changes in `results`, enqueue their alerts, deliver the outbox.

    `env` (default: `os.environ`, read now) holds the channels' secrets. `timeout` bounds each
    network call; `retry` the attempts per delivery. Outbox items older than `max_age` are
    expired instead of sent: a three-week-old breach is no longer news, and the scorecard has it.
    """
    env = os.environ if env is None else env
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    report = DeliveryReport()
    allowed = allowed_channels(env)
    with damage_named(state_path), AlertStore.open(state_path) as store:
        record_changes(store, [r if isinstance(r, KpiStatus) else KpiStatus.from_dict(r) for r in results],
                       agreements, now, report, allowed)
        deliver_outbox(store, agreements, env, retry, timeout, max_age, now, sleep, report, allowed)
        for key, count in store.pending_counts().items():
            report.channel(key).pending = count
    if report.alerts or report.failures or report.what_if or report.held:
        logger.info("alerts: %s", report.summary())
    return report


def allowed_channels(env: Mapping[str, str]) -> frozenset[str] | None:
    """The channel kinds $FUNNELPACT_ALERT_CHANNELS lets alerts go to; None when unset (all)."""
    raw = env.get(ALERT_CHANNELS_ENV, "")
    kinds = frozenset(k.strip().lower() for k in raw.split(",") if k.strip())
    if unknown := sorted(kinds - SENDERS.keys()):
        raise InputError(Problem(f"unknown channel kind {', '.join(map(repr, unknown))} in {raw!r}: expected a "
                                 f"comma-separated list of {', '.join(SENDERS)}, or the variable unset for all",
                                 field=ALERT_CHANNELS_ENV))
    return kinds or None


def record_changes(
    store: AlertStore, results: list[KpiStatus], agreements: list[Agreement], now: datetime, report: DeliveryReport,
    allowed: frozenset[str] | None = None,
) -> None:
    # A judgement as of an instant still to come is a what-if: facts dated up to it were
    # judged as if known. Recording it would make every real run until then history.
    today = now.astimezone(UTC).replace(tzinfo=None)
    # One transaction: a status is recorded as announced only together with its outbox rows.
    with store.transaction():
        for result in results:
            if result.as_of and result.as_of > today:
                report.what_if += 1
                continue
            previous = store.get(*result.key)
            if previous and previous.as_of and result.as_of and result.as_of < previous.as_of:
                continue  # judged as of an earlier instant than the state: history, not news
            alerted = previous.alerted_status if previous else None
            agreement = find_revision(agreements, result)
            kind = None if _too_early(result, agreement) else alert_kind(alerted, result.status)
            if kind:
                alerted = "met" if kind == "recovered" else result.status
            # A row without an as-of (a caller's own results) keeps the one already recorded.
            as_of = result.as_of or (previous.as_of if previous else None)
            store.put(*result.key, KpiState(result.revision, result.status, alerted, as_of), now)
            if not kind:
                continue
            event = make_event(result, kind, _status_before(previous, result), agreement, now)
            if agreement is None:
                report.unrouted.append(event.alert_id)
            row = store.add_alert(event, now)
            for settings in channels_of(agreement):
                if allowed is not None and settings["channel"] not in allowed:
                    key = channel_key(settings)
                    report.held[key] = report.held.get(key, 0) + 1
                    continue
                store.enqueue(row, channel_key(settings), settings, now)
            report.alerts.append(event)


def _status_before(previous: KpiState | None, result: KpiStatus) -> str | None:
    """The status an alert names as the one it changed from: the last seen, or, when that is
    the same status (an at_risk held back by at_risk_after_days, announced on the 4th), the
    last announced; "at_risk -> at_risk" told the team nothing had changed."""
    if previous is None:
        return None
    return previous.status if previous.status != result.status else previous.alerted_status


def _too_early(result: KpiStatus, agreement: Agreement | None) -> bool:
    """An at_risk judged before the agreed days of its month have elapsed is not announced
    (`kpis.*.at_risk_after_days`). Its state is kept as seen, not as announced, so the first
    run after those days announces it if it still holds, and a month that recovers first
    was never news."""
    if result.status != "at_risk" or agreement is None or result.as_of is None:
        return False
    wait = at_risk_after_days(agreement, result.kpi)
    return wait > 0 and days_elapsed(result.period, agreement.spec.timezone, result.as_of) < wait


def channels_of(agreement: Agreement | None) -> list[dict[str, Any]]:
    """The channel settings an alert of this revision goes to; the log when it names none."""
    return ([a.model_dump() for a in agreement.spec.alerts] if agreement else []) or FALLBACK_CHANNELS


def find_revision(agreements: list[Agreement], result: KpiStatus | AlertEvent) -> Agreement | None:
    for agreement in agreements:
        if agreement.name == result.agreement and agreement.revision == result.revision:
            return agreement
    return revision_in_force(agreements, result.agreement, result.period)


def owners_of(agreement: Agreement | None, team: str) -> tuple[Person, ...]:
    if agreement is None:
        return ()
    teams = ("marketing", "sales") if team not in ("marketing", "sales") else (team,)
    owners = agreement.metadata.owners
    return tuple(Person(t, getattr(owners, t).name, getattr(owners, t).email) for t in teams)


def make_event(
    result: KpiStatus, kind: str, previous: str | None, agreement: Agreement | None, now: datetime
) -> AlertEvent:
    return AlertEvent(
        alert_id=f"{result.agreement}/{result.period}/{result.kpi}/{kind}/{iso(now)}",
        kind=kind,
        agreement=result.agreement,
        revision=result.revision,
        period=result.period,
        kpi=result.kpi,
        label=kpi_label(agreement, result.kpi) if agreement else "",
        owner=result.owner,
        owners=owners_of(agreement, result.owner),
        target=result.target,
        actual=result.actual,
        previous_status=previous,
        status=result.status,
        severity=result.severity,
        currency=agreement.spec.currency if agreement else None,
        detected_at=iso(now),
        as_of=iso(result.as_of.replace(tzinfo=UTC)) if result.as_of else "",  # naive UTC: say so, as detected_at does
        forecast=result.forecast,
        **_forecast_days(result, agreement),
    )


def _forecast_days(result: KpiStatus, agreement: Agreement | None) -> dict[str, float | int]:
    """The days a pace forecast stands on, so a reader can weigh it: none without one."""
    if result.forecast is None or result.as_of is None or agreement is None:
        return {}
    return {"days_elapsed": days_elapsed(result.period, agreement.spec.timezone, result.as_of),
            "days_in_month": days_in_month(result.period)}


def deliver_outbox(
    store: AlertStore,
    agreements: list[Agreement],
    env: Mapping[str, str],
    retry: RetryPolicy,
    timeout: float,
    max_age: timedelta,
    now: datetime,
    sleep: Callable[[float], None],
    report: DeliveryReport,
    allowed: frozenset[str] | None = None,
) -> None:
    # A channel that failed once in this call is skipped for the rest of it: with 50 pending
    # alerts and a dead webhook, the run waits for one message's retries, not fifty.
    down: dict[str, str] = {}
    # Items not attempted are given back together, in one commit, after the loop.
    released: list[tuple[int, str]] = []
    due: dict[str, list[OutboxItem]] = {}  # channel key -> the items this call attempts, oldest first
    claimed = store.claim(now, CLAIM_LEASE)
    try:
        for item in claimed:
            too_old = datetime.fromisoformat(item.created_at) < now - max_age
            reason = f"expired: not delivered within {max_age.days} days" if too_old else _no_longer_asked(item, agreements)
            if reason is not None:
                store.expire(item.id, reason, now)
                report.channel(item.channel_key).expired += 1
                logger.warning("alert %s to %s %s", item.alert.alert_id, item.channel_key, reason)
                continue
            if allowed is not None and item.channel.get("channel") not in allowed:
                # Raised before the variable was set: kept for a run that may send it.
                released.append((item.id, f"not attempted: {ALERT_CHANNELS_ENV} allows {', '.join(sorted(allowed))} only"))
                continue
            due.setdefault(item.channel_key, []).append(item)
        for key, items in due.items():
            counts = report.channel(key)
            for batch, part in messages(items):
                if key in down:
                    released += [(item.id, f"not attempted: the channel failed earlier in this run ({down[key]})")
                                 for item in batch]
                    continue
                attempts, error = attempt([item.alert for item in batch], batch[0].channel, env, retry, timeout, sleep, part)
                ids = [item.id for item in batch]
                if error is None:
                    store.mark_sent(ids, attempts, now)
                    counts.sent += len(batch)
                    counts.messages += 1
                    continue
                store.mark_failed(ids, attempts, error, now)
                down[key] = error
                counts.failed += len(batch)
                report.failures += [Failure(key, item.alert.alert_id, error) for item in batch]
                logger.warning("delivery of %d alert(s) to %s failed, kept in the outbox: %s", len(batch), key, error)
    except BaseException:
        # Interrupted (Ctrl-C, SIGTERM: exit 130): what this run claimed and did not finish goes
        # back now. Left to the end of its 15-minute lease, as a killed run's on another host must
        # be, the run started again at once sent none of it ("kept for the next run"), and the alerts waited
        # for the next day's run. The one being sent may have arrived: it may arrive twice, as
        # after a kill. Failing to give them back must not hide the interrupt (exit 130).
        with contextlib.suppress(Exception):
            store.release(released)
            store.give_back([item.id for item in claimed], "interrupted before it was delivered")
        raise
    if released:
        store.release(released)


def messages(items: list[OutboxItem]) -> list[tuple[list[OutboxItem], Part]]:
    """One channel's items as the messages that carry them: one per alert, or a digest
    (Slack, e-mail) of up to the channel's limit, in digest order (agreement revision, month,
    owning team), each with its part when the limit cut a digest into several."""
    size = per_message(items[0].channel)
    if size == 1:
        return [([item], None) for item in items]
    # One channel key is one receiver, but an e-mail's From (`sender`), which the key leaves
    # out, is each revision's own: alerts From another address go in a message of their own.
    by_sender: dict[str | None, list[OutboxItem]] = {}
    for item in sorted(items, key=lambda item: order_key(item.alert)):
        by_sender.setdefault(item.channel.get("sender"), []).append(item)
    out: list[tuple[list[OutboxItem], Part]] = []
    for group in by_sender.values():
        step = size or len(group)
        parts = [group[i:i + step] for i in range(0, len(group), step)]
        # "(2 of 4)": the messages one run's alerts were cut into say they belong together.
        out += [(part, (n, len(parts)) if len(parts) > 1 else None) for n, part in enumerate(parts, 1)]
    return out


def _no_longer_asked(item: OutboxItem, agreements: list[Agreement]) -> str | None:
    """Why an undelivered item is dropped: its channel was removed from the agreement revision
    since it was raised (or renamed: a channel is named by its variable). Kept, it was retried,
    and counted failed, on every run for 14 days after the analyst had taken the dead channel
    out. None when it is still asked for, or its agreement is not among those loaded."""
    agreement = find_revision(agreements, item.alert)
    # The key of the settings it was raised with, not the one stored: an outbox written before
    # the key read recipients in any order is matched the same way.
    if agreement is None or channel_key(item.channel) in {channel_key(c) for c in channels_of(agreement)}:
        return None
    return f"dropped: no longer a channel of {agreement.name} {agreement.revision}"


# What a reason adds when a receiver asks to wait longer than `max_delay`: a KPI alert stays in
# the outbox (docs/alerts.md quotes this); `attempt`'s callers with no next try say their own.
LEFT_FOR_THE_NEXT_RUN = "longer than the run waits ({max_delay:g} s), left for the next run"


def attempt(
    events: Sequence[Notice], settings: Mapping[str, Any], env: Mapping[str, str], retry: RetryPolicy, timeout: float,
    sleep: Callable[[float], None], part: Part = None, *, too_long: str = LEFT_FOR_THE_NEXT_RUN,
    deadline: float | None = None,
) -> tuple[int, str | None]:
    """Send `events` to one channel as one message: (attempts made, None when delivered or the
    last error). One channel key is one receiver, and `messages` gives the items of one
    e-mail one sender. `too_long`: the end of the reason when the receiver asks to wait more
    than `retry.max_delay` (formatted with it). `deadline` (a `time.monotonic()` instant, None
    for none): each network call's timeout is cut to what is left before it, and no retry
    waits past it."""
    error = "not attempted"
    for n in range(1, max(retry.attempts, 1) + 1):
        wait = None
        try:
            send_all(events, settings, env, _until(deadline, timeout), part)
            return n, None
        except DeliveryError as exc:
            error, retryable, wait = exc.reason, exc.retryable, exc.wait
        except Exception as exc:  # a bug in a channel must not fail the run either
            error, retryable = f"{type(exc).__name__}: {exc}", False
        if not retryable or n >= retry.attempts:
            return n, error
        if wait is not None and wait > retry.max_delay:
            # Waiting that long would hold the caller up: it says what becomes of the message.
            return n, f"{error}: {too_long.format(max_delay=retry.max_delay)}"
        pause = max(retry.delay(n), wait or 0)
        if deadline is not None and time.monotonic() + pause >= deadline:
            return n, f"{error}; no time left to try again ({n} attempt{'s' if n > 1 else ''})"
        sleep(pause)
    return max(retry.attempts, 1), error


def _until(deadline: float | None, timeout: float) -> float:
    """`timeout`, cut to what is left before `deadline` (never 0: a socket's 0 means non-blocking)."""
    return timeout if deadline is None else max(min(timeout, deadline - time.monotonic()), 0.01)
