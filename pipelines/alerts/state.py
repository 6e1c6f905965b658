"""Alert state in one SQLite file: the last status of every KPI-month, the alerts raised, the outbox.

Dedup rule (SPEC §6: once per KPI, month and status change). Per (agreement, period, kpi) we
keep the status last *seen* and the status last *announced*:

- a change to `breach` or `at_risk` alerts, unless that same status was the last announced
  (so `at_risk -> provisional -> at_risk`, a pace forecast wobbling around the line, alerts once);
- `met` after an announced `breach`/`at_risk` alerts as `recovered`;
- changes to or from `provisional` and `no_data` alone never alert: provisional is "too early to
  tell" and no_data is "cannot tell" — neither is news a team can act on;
- a judgement as of an earlier instant than the status last seen (a backfill reproducing what
  was knowable then) is history: it neither alerts nor replaces the state.

SQLite (stdlib) and not the DuckDB warehouse: DuckDB allows one writer, and alert state must
stay writable while a run holds the warehouse.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pipelines.alerts.events import ALERTING, AlertEvent, instant
from pipelines.alerts.holder import Holder, has_ended
from pipelines.disk_full import sqlite_trouble
from pipelines.errors import InputError, Problem

SCHEMA_VERSION = 3  # 2: kpi_state.as_of; 3: outbox.claimed_host, claimed_pid, claimed_start
# How long a run waits for another's write lock: a concurrent run holds it for milliseconds.
LOCK_WAIT_SECONDS = 30.0

logger = logging.getLogger("pipelines.alerts")

SCHEMA = """
create table if not exists kpi_state (
    agreement text not null,
    period text not null,
    kpi text not null,
    revision text not null,
    status text not null,            -- last status seen
    alerted_status text,             -- last status announced (breach, at_risk, met after a recovery)
    as_of text,                      -- the instant that status was judged as of (naive UTC)
    updated_at text not null,
    primary key (agreement, period, kpi)
);
create table if not exists alerts (
    id integer primary key autoincrement,
    agreement text not null,
    period text not null,
    kpi text not null,
    kind text not null,              -- breach, at_risk, recovered
    event text not null,             -- AlertEvent as JSON
    created_at text not null
);
create table if not exists outbox (
    id integer primary key autoincrement,
    alert_id integer not null references alerts(id),
    channel_key text not null,       -- e.g. slack:FUNNELPACT_SLACK_WEBHOOK
    channel text not null,           -- the channel's settings as JSON (no secrets: env var names)
    state text not null default 'pending',   -- pending, sent, expired
    attempts integer not null default 0,
    last_error text,
    last_attempt_at text,
    claimed_until text,
    claimed_host text,               -- the process that claimed it last (pipelines/alerts/holder.py):
    claimed_pid integer,             --   its host name, pid and start; null in a claim of an earlier
    claimed_start text,              --   funnelpact, which keeps its lease
    created_at text not null,
    sent_at text,
    unique (alert_id, channel_key)
);
create index if not exists outbox_pending on outbox (state, id);
"""

# Columns later versions added to a table of SCHEMA: (table, column, type).
ADDED_COLUMNS = (("kpi_state", "as_of", "text"), ("outbox", "claimed_host", "text"),
                 ("outbox", "claimed_pid", "integer"), ("outbox", "claimed_start", "text"))


def alert_kind(alerted_status: str | None, status: str) -> str | None:
    """breach / at_risk / recovered when this status must be announced, else None."""
    if status in ALERTING:
        return None if status == alerted_status else status
    if status == "met" and alerted_status in ALERTING:
        return "recovered"
    return None


@dataclass(frozen=True)
class KpiState:
    revision: str
    status: str
    alerted_status: str | None
    as_of: datetime | None = None


@dataclass(frozen=True)
class OutboxItem:
    id: int
    alert: AlertEvent
    channel_key: str
    channel: dict[str, Any]
    attempts: int
    created_at: str


def iso(instant: datetime) -> str:
    return instant.isoformat(timespec="seconds")


@contextmanager
def damage_named(path: Path | str) -> Iterator[None]:
    """A state file SQLite cannot read (a disk error, a copy cut short, bytes overwritten) is
    met at any statement, not only when it opens: name the file and the way out. Exit 2, like
    a warehouse that is no DuckDB file (a FUNNELPACT_HOME the run cannot use); so is a file
    the run may not write, or one another process holds past the wait (like a warehouse in
    use). A full disk is no damage (pipelines.disk_full). The file is left as it is."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        if (trouble := sqlite_trouble(exc)) is None:
            raise
        kind, cause = trouble
        message = {
            "readonly": f"cannot write the alert state ({cause}); expected a file funnelpact can write, or set "
                        "FUNNELPACT_HOME to another folder",
            "locked": f"the alert state is in use by another process for over {LOCK_WAIT_SECONDS:g} s ({cause}): "
                      "wait for it (a sqlite3 shell, a backup) or stop it, and run again: what this run could "
                      "not record or deliver, the next one does",
            "damaged": f"the alert state is damaged ({cause}): restore it from a backup, or move it aside and run "
                       "again (a new state announces every current breach and risk once more, and does not "
                       "send what the old outbox still held)",
        }[kind]
        raise InputError(Problem(message, file=str(path), field="FUNNELPACT_HOME")) from None


class AlertStore:
    """Open with `AlertStore.open(path)`; use as a context manager to close."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    @classmethod
    def open(cls, path: Path | str) -> AlertStore:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN IMMEDIATE ourselves, so two runs that dispatch
        # at once serialise on the write lock instead of both reading the same old status.
        conn = sqlite3.connect(path, timeout=LOCK_WAIT_SECONDS, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("pragma foreign_keys = on")
        version = conn.execute("pragma user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            conn.close()
            # A newer funnelpact on another host sharing the file, or a downgrade: reading it
            # as this version would misread what the newer one records (its claims, statuses).
            raise InputError(Problem(
                f"the alert state was written by a newer funnelpact (its schema {version}, this one reads up to "
                f"{SCHEMA_VERSION}): upgrade funnelpact here (every host sharing the file runs the same version), "
                "or set FUNNELPACT_HOME to another folder", file=str(path), field="FUNNELPACT_HOME"))
        conn.executescript(SCHEMA)
        store = cls(conn)
        # A state file of an earlier funnelpact gains the as-of column (its statuses have none
        # until a run judges them again) and the claim's holder (its claims name none, and keep
        # their lease). Decided by the columns, in one transaction: two runs opening the same old
        # file, or a crash, never leave it half migrated.
        # A file already at this version needs no write lock to be opened.
        if version < SCHEMA_VERSION:
            with store.transaction():
                for table, column, kind in ADDED_COLUMNS:
                    if column not in {row[1] for row in conn.execute(f"pragma table_info({table})")}:
                        conn.execute(f"alter table {table} add column {column} {kind}")
                conn.execute(f"pragma user_version = {SCHEMA_VERSION}")
        return store

    def __enter__(self) -> AlertStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.conn.execute("begin immediate")
        try:
            yield
        except BaseException:
            self.conn.execute("rollback")
            raise
        self.conn.execute("commit")

    # -- status -----------------------------------------------------------------------------

    def get(self, agreement: str, period: str, kpi: str) -> KpiState | None:
        row = self.conn.execute(
            "select revision, status, alerted_status, as_of from kpi_state "
            "where agreement = ? and period = ? and kpi = ?",
            (agreement, period, kpi),
        ).fetchone()
        if row is None:
            return None
        return KpiState(row["revision"], row["status"], row["alerted_status"], instant(row["as_of"]))

    def put(self, agreement: str, period: str, kpi: str, state: KpiState, now: datetime) -> None:
        self.conn.execute(
            """insert into kpi_state (agreement, period, kpi, revision, status, alerted_status, as_of, updated_at)
               values (?, ?, ?, ?, ?, ?, ?, ?)
               on conflict (agreement, period, kpi) do update set
                 revision = excluded.revision, status = excluded.status,
                 alerted_status = excluded.alerted_status, as_of = excluded.as_of,
                 updated_at = excluded.updated_at""",
            (agreement, period, kpi, state.revision, state.status, state.alerted_status,
             iso(state.as_of) if state.as_of else None, iso(now)),
        )

    # -- alerts and outbox ------------------------------------------------------------------

    def add_alert(self, event: AlertEvent, now: datetime) -> int:
        cur = self.conn.execute(
            "insert into alerts (agreement, period, kpi, kind, event, created_at) values (?, ?, ?, ?, ?, ?)",
            (event.agreement, event.period, event.kpi, event.kind, json.dumps(event.to_dict()), iso(now)),
        )
        return int(cur.lastrowid)

    def enqueue(self, alert_row: int, channel_key: str, channel: dict[str, Any], now: datetime) -> None:
        self.conn.execute(
            "insert or ignore into outbox (alert_id, channel_key, channel, created_at) values (?, ?, ?, ?)",
            (alert_row, channel_key, json.dumps(channel), iso(now)),
        )

    def claim(self, now: datetime, lease: timedelta) -> list[OutboxItem]:
        """Pending deliveries, oldest first, leased to this process so a concurrent run skips them:
        those no one has claimed, whose lease has ended, or whose holder has ended (killed on this
        host: `has_ended`)."""
        here, until = Holder.this_process(), iso(now)
        ended: dict[Holder, bool] = {}

        def holder(row: sqlite3.Row) -> Holder:
            return Holder(row["claimed_host"], row["claimed_pid"], row["claimed_start"])

        def free(row: sqlite3.Row) -> bool:
            if row["claimed_until"] is None or row["claimed_until"] <= until:
                return True
            if holder(row) not in ended:
                ended[holder(row)] = has_ended(holder(row), here)
            return ended[holder(row)]

        with self.transaction():
            rows = [row for row in self.conn.execute(
                """select o.id, o.channel_key, o.channel, o.attempts, o.created_at, a.event,
                          o.claimed_until, o.claimed_host, o.claimed_pid, o.claimed_start
                   from outbox o join alerts a on a.id = o.alert_id
                   where o.state = 'pending'
                   order by o.id""").fetchall() if free(row)]
            self.conn.executemany(
                "update outbox set claimed_until = ?, claimed_host = ?, claimed_pid = ?, claimed_start = ? where id = ?",
                [(iso(now + lease), here.host, here.pid, here.start, r["id"]) for r in rows])
        taken = Counter(holder(r) for r in rows if ended.get(holder(r)))
        for gone, count in taken.items():
            logger.warning("took over %d delivery(ies) claimed by process %d on %s, which has ended (killed?)",
                           count, gone.pid, gone.host)
        return [
            OutboxItem(
                id=r["id"],
                alert=AlertEvent.from_dict(json.loads(r["event"])),
                channel_key=r["channel_key"],
                channel=json.loads(r["channel"]),
                attempts=r["attempts"],
                created_at=r["created_at"],
            )
            for r in rows
        ]

    def mark_sent(self, item_ids: list[int], attempts: int, now: datetime) -> None:
        """The items of one message delivered after `attempts` tries, in one transaction."""
        with self.transaction():
            self.conn.executemany(
                """update outbox set state = 'sent', attempts = attempts + ?, last_error = null,
                   last_attempt_at = ?, sent_at = ?, claimed_until = null where id = ?""",
                [(attempts, iso(now), iso(now), item_id) for item_id in item_ids],
            )

    def mark_failed(self, item_ids: list[int], attempts: int, reason: str, now: datetime) -> None:
        """The items of one message not delivered after `attempts` tries: kept, with why."""
        with self.transaction():
            self.conn.executemany(
                """update outbox set attempts = attempts + ?, last_error = ?, last_attempt_at = ?,
                   claimed_until = null where id = ?""",
                [(attempts, reason, iso(now), item_id) for item_id in item_ids],
            )

    def release(self, reasons: list[tuple[int, str]]) -> None:
        """Give claimed items back, not attempted, with why: (item id, reason) pairs, in one
        transaction (one commit each took ~9 ms: 3.4 s for 384 items behind a dead channel)."""
        with self.transaction():
            self.conn.executemany("update outbox set last_error = ?, claimed_until = null where id = ?",
                                  [(reason, item_id) for item_id, reason in reasons])

    def give_back(self, item_ids: list[int], reason: str) -> None:
        """Give back those of `item_ids` still claimed and pending (not sent, failed, expired or
        released since), with why, in one transaction."""
        with self.transaction():
            self.conn.executemany("update outbox set last_error = ?, claimed_until = null "
                                  "where id = ? and state = 'pending' and claimed_until is not null",
                                  [(reason, item_id) for item_id in item_ids])

    def expire(self, item_id: int, reason: str, now: datetime) -> None:
        self.conn.execute(
            "update outbox set state = 'expired', last_error = ?, last_attempt_at = ?, claimed_until = null where id = ?",
            (reason, iso(now), item_id),
        )

    def pending_counts(self) -> dict[str, int]:
        rows = self.conn.execute(
            "select channel_key, count(*) from outbox where state = 'pending' group by channel_key"
        ).fetchall()
        return {r[0]: r[1] for r in rows}

    def outbox(self, state: str | None = None) -> list[dict[str, Any]]:
        """Outbox rows with their alert, for the tests to read delivery state through. No command
        shows them: docs/alerts.md has people inspect the outbox with sqlite3."""
        sql = "select o.*, a.kind, a.agreement, a.period, a.kpi from outbox o join alerts a on a.id = o.alert_id"
        args: tuple[Any, ...] = ()
        if state:
            sql, args = sql + " where o.state = ?", (state,)
        return [dict(r) for r in self.conn.execute(sql + " order by o.id", args)]
