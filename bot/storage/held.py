"""Held citizen inputs: messages waiting for the citizen to say which open thing they are for."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.rows import HeldRow, every, one
from bot.storage.tables import held_inputs


async def hold(conn: AsyncConnection, values: dict[str, Any]) -> int:
    result = await conn.execute(insert(held_inputs).values(**values))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def get(conn: AsyncConnection, held_id: int, user_id: int) -> HeldRow | None:
    """The held input, only if it is this user's."""
    stmt = select(held_inputs).where(
        (held_inputs.c.id == held_id) & (held_inputs.c.user_id == user_id)
    )
    row = (await conn.execute(stmt)).mappings().first()
    return one(row, HeldRow)


async def album(conn: AsyncConnection, user_id: int, media_group_id: str) -> list[HeldRow]:
    """The user's held items of one album, in order."""
    stmt = (
        select(held_inputs)
        .where(
            (held_inputs.c.user_id == user_id) & (held_inputs.c.media_group_id == media_group_id)
        )
        .order_by(held_inputs.c.id)
    )
    return every((await conn.execute(stmt)).mappings(), HeldRow)


async def count(conn: AsyncConnection, user_id: int) -> int:
    """How many of the user's messages are held."""
    stmt = select(func.count()).select_from(held_inputs).where(held_inputs.c.user_id == user_id)
    return int((await conn.execute(stmt)).scalar_one())


async def drop(conn: AsyncConnection, held_ids: list[int]) -> int:
    """Drop these held inputs; how many were still there (another process may have routed
    them a moment before)."""
    result = await conn.execute(delete(held_inputs).where(held_inputs.c.id.in_(held_ids)))
    return int(result.rowcount or 0)


async def drop_older_than(conn: AsyncConnection, cutoff: datetime) -> int:
    result = await conn.execute(delete(held_inputs).where(held_inputs.c.created_at < cutoff))
    return int(result.rowcount or 0)
