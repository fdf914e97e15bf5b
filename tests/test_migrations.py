"""The migrations create exactly the schema that `bot/storage/tables.py` describes."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, text

from bot.storage.db import create_engine
from bot.storage.migrate import current_revision, head_revision, upgrade
from bot.storage.search import compared
from bot.storage.tables import metadata, units
from tests.conftest import empty_postgres


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


async def test_processes_starting_together_over_postgresql_migrate_once() -> None:
    """Three processes start at once on a new database: one migrates, the others wait for its
    lock, then find the schema at head (unlocked, two would create the same tables)."""
    async with empty_postgres() as url:
        await asyncio.gather(*(upgrade(url) for _ in range(3)))
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                assert await current_revision(conn) == head_revision()
                versions = await conn.execute(text("SELECT count(*) FROM alembic_version"))
                assert versions.scalar_one() == 1
                seeded = await conn.execute(select(func.count()).select_from(units))
                assert seeded.scalar_one() == 4  # the seed ran once, not three times
        finally:
            await engine.dispose()


async def test_separate_processes_starting_together_migrate_once() -> None:
    """The same with real processes (`python -m bot migrate` three times at once), where an
    unlocked run fails: the second CREATE TABLE of one name breaks a unique index."""
    async with empty_postgres() as url:
        env = {**os.environ, "DATABASE_URL": url, "BOT_TOKEN": "123456:TEST-TOKEN-abcdef"}
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "migrate", env=env, stderr=asyncio.subprocess.PIPE
            )
            for _ in range(3)
        ]
        results = [await p.communicate() for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0], [err for _out, err in results]
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                assert await current_revision(conn) == head_revision()
        finally:
            await engine.dispose()


async def test_0018_moves_the_api_key_notes_onto_their_cases(tmp_path: Path) -> None:
    """Cases filed over the API before 0018 kept their key as a system note: it becomes
    `cases.api_key` and the note goes; a staff member's note that looks alike stays."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}"
    await upgrade(url, "0017")
    engine = create_engine(url)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO users (id, first_name, role, blocked_bot, banned, created_at,"
                    " updated_at) VALUES (9101, 'S', 'staff', false, false, :at, :at)"
                ),
                {"at": now},
            )
            for case_id in (1, 2):
                await conn.execute(
                    text(
                        "INSERT INTO cases (id, code, channel, status, violation, sector,"
                        " province, city, business, business_key, address, description, urgent,"
                        " search_text, created_at, updated_at) VALUES (:id, :code, 'web', 'new',"
                        " 'overpricing', 'food', '23', 'تهران', 'نمونه', 'نمونه', 'نشانی',"
                        " 'شرح', false, '', :at, :at)"
                    ),
                    {"id": case_id, "code": f"TZ-{case_id}", "at": now},
                )
            for case_id, actor, note in ((1, None, "open311:portal"), (2, 9101, "open311:x")):
                await conn.execute(
                    text(
                        "INSERT INTO case_events (case_id, action, at, actor_id, from_status,"
                        " to_status, note, public) VALUES (:case, 'note', :at, :actor, 'new',"
                        " 'new', :note, false)"
                    ),
                    {"case": case_id, "at": now, "actor": actor, "note": note},
                )
        await upgrade(engine)
        async with engine.connect() as conn:
            keys = (await conn.execute(text("SELECT id, api_key FROM cases ORDER BY id"))).all()
            notes = (await conn.execute(text("SELECT case_id, note FROM case_events"))).all()
    finally:
        await engine.dispose()
    assert [tuple(k) for k in keys] == [(1, "portal"), (2, None)]
    assert [tuple(n) for n in notes] == [(2, "open311:x")]
