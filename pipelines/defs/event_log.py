"""Dagster's SQLite event log, with its database connections kept open between events.

The stock `SqliteEventLogStorage` creates an engine and opens a new SQLite connection for
every event it stores (twice for asset events, which are mirrored into the index shard), and
commits each with a full fsync. A run of the funnelpact job stored ~1,200 events then (planned
and done materialisations per asset and month, dbt test results): that was 12 s of a 25 s run
over an empty warehouse (bench/, docs/performance.md). Keeping one engine per shard open and
committing with `synchronous=NORMAL` (safe in WAL mode: a power cut can lose the last events,
never corrupt the file) brings it to ~2.5 s; remembering which index tables exist (asked for
every asset event, each time through a new engine) saves ~0.6 s more. Same files, same schema: the Dagster UI and an
instance without this class read them unchanged.

Configured in the dagster.yaml funnelpact writes (pipelines/defs/instance.py).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as db
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME, SqliteEventLogStorage
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData
from sqlalchemy.engine import Connection, Engine

# Open engines kept: the index shard, the run being written, and a few runs the UI reads.
OPEN_SHARDS = 8


def _fast_commits(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` whose shards keep an open engine (least recently used closed)."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._engines_lock = threading.RLock()
        self._tables_present: set[str] = set()
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value: Any):  # type: ignore[override]
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        with self._engines_lock:
            engine = self._engines.pop(shard, None)
            if engine is None:
                engine = create_engine(self.conn_string_for_shard(shard),
                                       connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
                db.event.listen(engine, "connect", _fast_commits)
            self._engines[shard] = engine
            while len(self._engines) > OPEN_SHARDS:
                _, oldest = self._engines.popitem(last=False)
                oldest.dispose()
            return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def has_table(self, table_name: str) -> bool:
        # Asked for every asset event (whether the index has the tags and the checks tables):
        # the stock method opens a new engine each time. Tables are never dropped while a
        # process runs, so a present one is remembered.
        if table_name not in self._tables_present:
            engine = self._engine(INDEX_SHARD_NAME)
            with engine.connect() as conn:
                if engine.dialect.has_table(conn, table_name):
                    self._tables_present.add(table_name)
        return table_name in self._tables_present

    def _close_engines(self) -> None:
        with self._engines_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()

    def delete_events(self, run_id: str) -> None:
        # Dagster empties a deleted run's shard but keeps the file: ~1 MB a day for the daily
        # run, so deleting old runs (UI, `dagster run delete`) freed no disk at all.
        super().delete_events(run_id)
        with self._db_lock, self._engines_lock:
            engine = self._engines.pop(run_id, None)
            if engine is not None:
                engine.dispose()
            self._initialized_dbs.discard(run_id)
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path_for_shard(run_id) + suffix)

    def wipe(self) -> None:
        self._close_engines()  # wipe deletes the shard files
        super().wipe()

    def dispose(self) -> None:
        self._close_engines()
        super().dispose()
