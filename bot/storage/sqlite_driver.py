"""SQLAlchemy's aiosqlite adapter with one thread hop per statement instead of four.

aiosqlite runs sqlite3 in a thread of its own, and each call into it is a hop: a future, a
queue put, a wake-up of that thread, and a `call_soon_threadsafe` back that wakes the event
loop through its self-pipe. SQLAlchemy's adapter makes four of them per statement (open a
cursor, execute, fetch the rows, close the cursor). A bot update runs about 28 statements, so
those hops were a large share of its CPU time (docs/benchmarks.md, "Cutting the cost of an
update"), more than SQLite's own work on these small indexed queries.

Here a statement is one function run in aiosqlite's thread: execute, fetch every row, note the
description, row count and last row id, close. Results are buffered, as SQLAlchemy's adapter
buffers them too; server-side cursors (`stream()`) keep the stock adapter.

A transaction costs no hops of its own either. The BEGIN that `bot.storage.db` issues is kept
and run in the same hop as the transaction's first statement (nothing can happen between the
two); a transaction in which no statement ran ends without a hop; and a commit or rollback with
no transaction open (the pool's rollback when a connection is handed back after a commit) is
skipped, as sqlite3 itself would do nothing. A task cancelled in the middle of a hop leaves the
thread's state unknown: SQLAlchemy then invalidates the connection, so none of this is guessed
from a connection that may still be running a statement.

It uses aiosqlite's `Connection._execute`, the method through which all of aiosqlite's own calls
go: a change there fails tests/test_sqlite_driver.py, not the bot in silence.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Sequence
from typing import Any

from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

_Ran = tuple[Any, list[Any], int, int | None]  # description, rows, rowcount, lastrowid


BEGINS = frozenset({"BEGIN", "BEGIN DEFERRED", "BEGIN IMMEDIATE", "BEGIN EXCLUSIVE"})


def _run(
    raw: sqlite3.Connection, begin: str | None, operation: str, parameters: Any, many: bool
) -> _Ran:
    """In aiosqlite's thread: the transaction's BEGIN if it is still to be sent, then the whole
    statement, cursor to close."""
    if begin is not None:
        _begin(raw, begin)
    cursor = raw.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _begin(raw: sqlite3.Connection, begin: str) -> None:
    raw.execute(begin)


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose statement is one call into aiosqlite's thread."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_dbapi_connection) -> None:
        # No aiosqlite cursor is opened (that was a hop of its own).
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass

    async def _async_soft_close(self) -> None:
        return None  # nothing is open in the thread

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        return self._go(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        return self._go(operation, seq_of_parameters, many=True)

    def _go(self, operation: Any, parameters: Any, *, many: bool) -> None:
        adapt = self._adapt_connection
        assert isinstance(adapt, OneHopConnection)
        if not many and not parameters and operation in BEGINS:
            adapt._begin = operation  # sent with the first statement (module docstring)
            self._description, self._rowcount, self._lastrowid = None, -1, None
            self._rows = deque()
            return
        begin, adapt._begin = adapt._begin, None
        connection = self._connection
        try:
            ran: _Ran = await_(
                connection._execute(_run, connection._conn, begin, operation, parameters, many)
            )
        except Exception as error:
            adapt._handle_exception(error)
        self._description, rows, self._rowcount, self._lastrowid = ran
        self._rows = deque(rows)

    def nextset(self) -> None:
        return None

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None

    def fetchall(self) -> Sequence[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("_begin",)
    _cursor_cls = OneHopCursor

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self._begin: str | None = None  # a BEGIN not sent yet: no statement ran since

    def _open(self) -> bool:
        """Whether a transaction is open in SQLite: one to end with a hop. A BEGIN never sent
        opened nothing."""
        if self._begin is not None:
            self._begin = None
            return False
        raw = self._connection._connection
        return raw is not None and raw.in_transaction

    def cursor(self, server_side: bool = False) -> Any:
        if server_side and self._begin is not None:  # the stock cursor knows nothing of it
            begin, self._begin = self._begin, None
            try:
                await_(self._connection._execute(_begin, self._connection._conn, begin))
            except Exception as error:
                self._handle_exception(error)
        return super().cursor(server_side)

    def commit(self) -> None:
        if self._open():
            super().commit()

    def rollback(self) -> None:
        if self._open():
            super().rollback()


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """Given to `create_async_engine(module=...)`: connections use the one-hop cursor."""

    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        stock = super().connect(*arg, **kw)
        return OneHopConnection(self, stock._connection)


def dbapi() -> OneHopDBAPI:
    import aiosqlite

    return OneHopDBAPI(aiosqlite, sqlite3)
