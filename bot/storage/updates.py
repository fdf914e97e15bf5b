"""Telegram updates already handled, so that one redelivered after a crash is skipped."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.tables import processed_updates


async def was_processed(conn: AsyncConnection, update_id: int) -> bool:
    row = await conn.execute(
        select(processed_updates.c.update_id).where(processed_updates.c.update_id == update_id)
    )
    return row.first() is not None


async def record_processed(conn: AsyncConnection, update_id: int, now: datetime) -> None:
    """Raises `sqlalchemy.exc.IntegrityError` when the update was recorded already."""
    await conn.execute(insert(processed_updates).values(update_id=update_id, at=now))


async def forget_processed_before(conn: AsyncConnection, cutoff: datetime) -> None:
    await conn.execute(delete(processed_updates).where(processed_updates.c.at < cutoff))
