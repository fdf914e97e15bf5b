"""Reads take no write lock: a long read (a summary, an export) holds up neither other readers
nor writers, and writers still serialise, so a claim stays a clean compare-and-set."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

from sqlalchemy import func, insert, select

from bot.config import load_settings
from bot.domain.roles import Role
from bot.services.desk import Desk, Done
from bot.services.filing import Filing, Submitted
from bot.services.runtime import Runtime
from bot.storage.db import create_engine, is_sqlite, snapshot
from bot.storage.tables import case_events, chat_moves
from tests.clock import Clock
from tests.test_filing_service import _ready_for_review

ADMIN = 9001
# Far below the 30 s busy timeout a blocked BEGIN would wait for, far above what a free one takes.
FREE = 5.0


async def _count(conn) -> int:  # type: ignore[no-untyped-def]
    return int((await conn.execute(select(func.count()).select_from(chat_moves))).scalar_one())


async def test_an_open_read_blocks_neither_another_read_nor_a_writer(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        async with snapshot(engine) as long_read:
            assert await _count(long_read) == 0  # its transaction is open from here on

            async def other_read() -> int:
                async with engine.connect() as conn:
                    return await _count(conn)

            async def write(old_chat_id: int) -> None:
                async with engine.begin() as conn:
                    await conn.execute(
                        insert(chat_moves).values(
                            old_chat_id=old_chat_id, new_chat_id=-9, at=_now()
                        )
                    )

            assert await asyncio.wait_for(other_read(), FREE) == 0
            await asyncio.wait_for(write(-1), FREE)
            assert await asyncio.wait_for(other_read(), FREE) == 1
            if is_sqlite(db_url):
                # WAL: the open read goes on seeing its snapshot.
                assert await _count(long_read) == 0
            # Two writers still take turns rather than failing with "database is locked".
            await asyncio.wait_for(asyncio.gather(write(-2), write(-3)), FREE)
        async with engine.connect() as conn:
            assert await _count(conn) == 3
    finally:
        await engine.dispose()


async def test_concurrent_claims_with_a_read_open_leave_one_holder(db_url: str) -> None:
    settings = load_settings(
        bot_token="1:abcdef",
        database_url=db_url,
        staff_chat_id=-100123,
        admin_ids=[ADMIN],
        max_complaints_per_day=100,
        _env_file=None,
    )
    engine = create_engine(db_url)
    rt = Runtime(engine=engine, settings=settings, clock=Clock())
    try:
        filing = Filing(rt, random.Random(3))
        await _ready_for_review(filing, 5)
        submitted = await filing.submit(5)
        assert isinstance(submitted, Submitted)
        desk = Desk(rt)
        admin = await desk.actor(ADMIN)
        ids = list(range(30000, 30020))
        for uid in ids:
            assert await desk.set_role(admin, uid, Role.STAFF) is None
        actors = [await desk.actor(uid) for uid in ids]
        async with engine.connect() as long_read:
            await long_read.execute(select(func.count()).select_from(case_events))
            results = await asyncio.wait_for(
                asyncio.gather(*(desk.claim(a, submitted.case_id) for a in actors)), 30
            )
        winners = [r for r in results if isinstance(r, Done)]
        assert len(winners) == 1
        async with engine.connect() as conn:
            claims = (
                await conn.execute(
                    select(case_events.c.actor_id).where(
                        case_events.c.case_id == submitted.case_id,
                        case_events.c.action == "claim",
                    )
                )
            ).all()
        assert [c.actor_id for c in claims] == [winners[0].case["holder_id"]]
    finally:
        await engine.dispose()


def _now() -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC)


async def test_a_plain_read_sees_each_commit_and_a_snapshot_does_not(db_url: str) -> None:
    """A read from `engine.connect()` reads every statement afresh (on SQLite it opens no
    transaction, as PostgreSQL's READ COMMITTED); `snapshot` keeps its first view on SQLite,
    where copy-data reads one."""
    engine = create_engine(db_url)
    try:

        async def write(old_chat_id: int) -> None:
            async with engine.begin() as conn:
                await conn.execute(
                    insert(chat_moves).values(old_chat_id=old_chat_id, new_chat_id=-9, at=_now())
                )

        async with engine.connect() as plain, snapshot(engine) as held:
            assert await _count(plain) == 0 and await _count(held) == 0
            await asyncio.wait_for(write(-11), FREE)
            assert await _count(plain) == 1
            assert await _count(held) == (0 if is_sqlite(db_url) else 1)
            if is_sqlite(db_url):
                raw = (await plain.get_raw_connection()).driver_connection
                assert raw is not None and not raw._connection.in_transaction
    finally:
        await engine.dispose()
