"""The one-hop SQLite driver (bot.storage.sqlite_driver) behaves as the stock adapter does for
everything the bot relies on: rows and column names, row counts of writes, RETURNING, the ids
of inserted rows, many rows at once, errors as SQLAlchemy's, a rollback undoing a write, and
one statement per call into aiosqlite's thread."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.storage import sqlite_driver
from bot.storage.db import create_engine

meta = MetaData()
things = Table(
    "things",
    meta,
    Column("id", Integer, primary_key=True),
    Column("name", String, unique=True, nullable=False),
)


@pytest.fixture
async def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/driver.db")
    async with engine.begin() as conn:
        await conn.run_sync(meta.create_all)
    yield engine
    await engine.dispose()


async def test_reads_writes_and_counts_as_the_stock_adapter(engine) -> None:  # type: ignore[no-untyped-def]
    async with engine.begin() as conn:
        first = await conn.execute(insert(things).values(name="a"))
        assert first.inserted_primary_key == (1,)
        await conn.execute(insert(things), [{"name": "b"}, {"name": "c"}])  # executemany
        changed = await conn.execute(
            update(things).where(things.c.id > 1).values(name=things.c.name + "!")
        )
        assert changed.rowcount == 2
        back = await conn.execute(
            update(things).where(things.c.id == 1).values(name="z").returning(things.c.id)
        )
        assert list(back.scalars()) == [1]
    async with engine.connect() as conn:
        rows = (await conn.execute(select(things).order_by(things.c.id))).mappings().all()
        assert [dict(r) for r in rows] == [
            {"id": 1, "name": "z"},
            {"id": 2, "name": "b!"},
            {"id": 3, "name": "c!"},
        ]
        assert (await conn.execute(text("select count(*) from things"))).scalar_one() == 3
        assert (await conn.execute(select(things).where(things.c.id == 99))).first() is None


async def test_errors_are_sqlalchemys_and_a_rollback_undoes(engine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(insert(things).values(name="same"))
            await conn.execute(insert(things).values(name="same"))
    async with engine.connect() as conn:
        assert (await conn.execute(select(things))).first() is None  # the first insert too
        with pytest.raises(OperationalError):
            await conn.execute(text("select nothing from nowhere"))


async def test_one_call_into_the_thread_per_statement(engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        await conn.execute(select(things))  # the connection is open and its BEGIN sent
        raw = (await conn.get_raw_connection()).driver_connection
        calls: list[object] = []
        real = raw._execute

        async def counted(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
            calls.append(fn)
            return await real(fn, *args, **kwargs)

        monkeypatch.setattr(raw, "_execute", counted)
        for _ in range(5):
            await conn.execute(select(things).where(things.c.id == 1))
    assert calls[:5] == [sqlite_driver._run] * 5  # the stock adapter made four per statement
