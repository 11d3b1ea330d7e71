"""Dagster's own SQLite event log (run history, asset materialisations, check results), with fewer disk syncs.

Dagster's `SqliteEventLogStorage` opens a new SQLAlchemy engine and SQLite connection for every event it stores,
and mirrors each asset and check event into the index database the same way. A scheduled build stores about two
thousand events (a materialisation per model, a result per data test, their planned events), and each connection
closed is a checkpoint of the database's write-ahead log, each commit a sync to disk: on the demo shop that was
10 of a materialisation's 26 seconds, the dbt process waiting on Dagster's side of the pipe.

This subclass changes how it connects, not what it stores (same files, same tables, same migrations):

- every connection runs with `synchronous = NORMAL` (the databases are in WAL mode already, Dagster sets it): a
  commit no longer waits for the disk; a power cut may lose the last events, a crash of the process does not;
- the index database's connection is kept open for the process's life (every access holds the storage's lock),
  so storing an event no longer checkpoints it; a run's own database is still closed after each write, since
  the Dagster UI follows a run live by watching that file change;
- whether a table exists is asked once per table, not on every check result.

`orchestration/dagster.yaml` names this class; `shopkeep` writes the instance's folder into it (`dagster_home`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
)
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    SqliteEventLogStorage as DagstersSqliteEventLogStorage,
)
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool, StaticPool


def _relaxed_sync(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


class SqliteEventLogStorage(DagstersSqliteEventLogStorage):
    """Dagster's SQLite event log storage, connecting as the module says. Configured like Dagster's own
    (`base_dir`: the instance's `history/runs` folder)."""

    def __init__(self, base_dir: str, inst_data=None):
        self._index_engine: Engine | None = None
        self._tables: set[str] = set()
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> SqliteEventLogStorage:  # type: ignore[override]
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        if shard == INDEX_SHARD_NAME and self._index_engine is not None:
            return self._index_engine
        engine = create_engine(
            self.conn_string_for_shard(shard),
            # one connection, used under the storage's lock only (hence from any of the process's threads)
            poolclass=StaticPool if shard == INDEX_SHARD_NAME else NullPool,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )
        event.listen(engine, "connect", _relaxed_sync)
        if shard == INDEX_SHARD_NAME:
            self._index_engine = engine
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:  # type: ignore[override]
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn:
                with conn.begin():
                    yield conn
            if shard != INDEX_SHARD_NAME:
                engine.dispose()

    def has_table(self, table_name: str) -> bool:
        if table_name not in self._tables and super().has_table(table_name):
            self._tables.add(table_name)  # tables are added by migrations, never dropped
        return table_name in self._tables

    def wipe(self) -> None:
        super().wipe()
        self._tables.clear()

    def dispose(self) -> None:
        super().dispose()
        if self._index_engine is not None:
            self._index_engine.dispose()
            self._index_engine = None
