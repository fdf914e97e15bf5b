"""Engine creation with the settings each backend needs to be safe under concurrency."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncTransaction,
    create_async_engine,
)

from bot.storage import sqlite_driver

# Set on a connection whose transaction was begun explicitly (`engine.begin()`, `conn.begin()`):
# that is where the bot writes. A connection from `engine.connect()` that merely autobegins
# is never committed (the code base has no `conn.commit()`), so whatever it does is a read.
_WRITE = "tazirat_sqlite_write"
# Set by `snapshot`: a read whose statements must all see the database as at its first.
_SNAPSHOT = "tazirat_sqlite_snapshot"


class _SQLiteConnection(AsyncConnection):
    """An explicit `begin()` marks the transaction as a writer before SQLite's BEGIN is sent."""

    __slots__ = ()

    def begin(self) -> AsyncTransaction:
        # Sync and free of I/O: only records the option the "begin" hook reads.
        self._proxied.execution_options(**{_WRITE: True})
        return super().begin()


class _SQLiteEngine(AsyncEngine):
    __slots__ = ()
    _connection_cls = _SQLiteConnection


@asynccontextmanager
async def snapshot(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A read connection whose statements all see one snapshot (on SQLite a deferred
    transaction: under WAL it takes no lock). A plain `engine.connect()` reads each statement
    afresh, as PostgreSQL's READ COMMITTED does; take this where a read must add up across
    statements (copying a database)."""
    async with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            # Sync and free of I/O, as `_SQLiteConnection.begin`: read by the "begin" hook.
            conn.sync_connection.execution_options(**{_SNAPSHOT: True})  # type: ignore[union-attr]
        yield conn


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Create an async engine; SQLite gets WAL, foreign keys and write-locking transactions.

    On SQLite a transaction begun explicitly (`engine.begin()`, where the bot writes) starts with
    BEGIN IMMEDIATE: a deferred transaction that reads and then writes can fail at once with
    "database is locked" instead of waiting, which would turn a concurrent claim into an error
    instead of a clean compare-and-set. A connection from `engine.connect()` (a read) sends no
    BEGIN: each statement reads the latest commit, as on PostgreSQL, takes no lock under WAL
    and needs no ROLLBACK (a thread hop) at its end, so long summaries and exports never hold
    up the desk and readers never wait for one another. `snapshot` gives a read one snapshot.
    """
    if is_sqlite(url):
        path = url.split(":///", 1)[1].split("?", 1)[0]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = _SQLiteEngine(
            create_async_engine(
                url, connect_args={"timeout": 30}, module=sqlite_driver.dbapi(), **kwargs
            ).sync_engine
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # let the "begin" hook below issue BEGIN
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            options = conn.get_execution_options()
            if options.get(_WRITE, False):
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            elif options.get(_SNAPSHOT, False):
                conn.exec_driver_sql("BEGIN DEFERRED")
            # else a read: each statement is its own transaction (see above)

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_async_engine(url, pool_pre_ping=True, **kwargs)
