"""Apply Alembic migrations programmatically (on start and by `python -m bot migrate`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.storage.db import create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The PostgreSQL advisory lock every process takes before migrating: any fixed bigint that no
# other application on the same database uses ("tazirat" in ASCII).
MIGRATION_LOCK_KEY = 0x74_61_7A_69_72_61_74


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    """The newest revision the code knows (one head: the chain is linear)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def current_revision(conn: AsyncConnection) -> str | None:
    """The revision a database is at; None if it was never migrated."""

    def read(sync_conn: Connection) -> str | None:
        return MigrationContext.configure(sync_conn).get_current_revision()

    return await conn.run_sync(read)


async def upgrade(url_or_engine: str | AsyncEngine, revision: str = "head") -> None:
    """Bring the database at `url_or_engine` to `revision` (the newest by default).

    Several processes starting at once over one PostgreSQL must migrate once: each takes a
    transaction-level advisory lock first, so the others wait, then find the schema at head
    and do nothing. The lock goes with the transaction (commit, rollback, or a dead process's
    connection), so it can never be left held. SQLite needs none: it is one process, and the
    migration's BEGIN IMMEDIATE already excludes other writers."""
    engine = create_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    try:
        async with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
            await conn.run_sync(_upgrade_sync, revision)
    finally:
        if isinstance(url_or_engine, str):
            await engine.dispose()


def _upgrade_sync(connection: object, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)
