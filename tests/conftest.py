"""Shared fixtures: a real database per test (SQLite in a temp dir, or a fresh PostgreSQL
database), a controllable clock, and the whole bot running against the fake Bot API server.

Every database-backed test runs twice, once per backend. PostgreSQL is skipped with a visible
reason when the server is not reachable, except when REQUIRE_POSTGRES is set (CI), where an
unreachable server is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from bot.storage.migrate import upgrade

PG_ADMIN_DSN = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")


async def _pg_admin() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        reason = f"PostgreSQL not reachable at {PG_ADMIN_DSN}: {exc}"
        if os.environ.get("REQUIRE_POSTGRES"):
            pytest.fail(reason)
        pytest.skip(reason)


@asynccontextmanager
async def _database(kind: str, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty database of `kind` ("sqlite" or "postgresql"), dropped afterwards."""
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
        await upgrade(url)
        yield url
        return
    async with empty_postgres() as url:
        await upgrade(url)
        yield url


@asynccontextmanager
async def empty_postgres() -> AsyncIterator[str]:
    """A new PostgreSQL database with nothing in it (not migrated), dropped afterwards; its URL
    as DATABASE_URL takes it, with the driver."""
    admin = await _pg_admin()
    name = f"t_{uuid.uuid4().hex[:16]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        yield f"{base}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty database of each backend, dropped afterwards."""
    async with _database(request.param, tmp_path) as url:
        yield url


@dataclass(frozen=True)
class Env:
    """Where an end-to-end test runs: a database, and the messenger the server plays."""

    db_url: str
    platform: str

    @property
    def bale(self) -> bool:
        return self.platform == "bale"


@pytest.fixture(params=["sqlite", "postgresql", "bale-sqlite"])
async def env(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Env]:
    """For the main end-to-end flows: Telegram on both backends, and Bale on SQLite only (the
    platform does not touch the SQL, and CI time is kept for what might differ)."""
    platform, _, kind = str(request.param).rpartition("-")
    async with _database(kind, tmp_path) as url:
        yield Env(url, platform or "telegram")
