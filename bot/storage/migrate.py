"""Apply Alembic migrations programmatically (on start and by `python -m bot migrate`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.db import create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


async def upgrade(url_or_engine: str | AsyncEngine, revision: str = "head") -> None:
    """Bring the database at `url_or_engine` to `revision` (the newest by default)."""
    engine = create_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade_sync, revision)
    finally:
        if isinstance(url_or_engine, str):
            await engine.dispose()


def _upgrade_sync(connection: object, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)
