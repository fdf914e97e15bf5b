"""`processed_updates`: Telegram updates the gate recorded as handled, before the inbox kept that
record itself (bot/storage/inbox.py). Nothing writes it any more; it is emptied until a
migration drops it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.tables import processed_updates


async def forget_processed_before(conn: AsyncConnection, cutoff: datetime) -> None:
    await conn.execute(delete(processed_updates).where(processed_updates.c.at < cutoff))
