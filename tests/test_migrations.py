"""The migrations create exactly the schema that `bot/storage/tables.py` describes."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from bot.storage.db import create_engine
from bot.storage.migrate import upgrade
from bot.storage.search import compared
from bot.storage.tables import metadata, units


async def test_migrated_schema_matches_the_tables(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:

            def diff(sync_conn):  # type: ignore[no-untyped-def]
                # The search index is outside `metadata` on SQLite (bot.storage.search).
                opts = {"compare_type": False, "include_object": compared(sync_conn.dialect.name)}
                ctx = MigrationContext.configure(sync_conn, opts=opts)
                return compare_metadata(ctx, metadata)

            assert await conn.run_sync(diff) == []
            names = (await conn.execute(select(units.c.code).order_by(units.c.id))).scalars()
            assert list(names) == [
                "it_cyber",
                "joint_patrols",
                "market_regulation",
                "tehran_office",
            ]
    finally:
        await engine.dispose()


async def test_upgrading_twice_is_harmless(db_url: str) -> None:
    await upgrade(db_url)  # already at head: nothing to do, nothing breaks
