"""Which scheduled summaries were pushed: one row per (kind, period), unique.

The row is written in the same transaction as the summary's outbox messages, so the unique
constraint is what makes a push happen exactly once across crashes and processes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.tables import scheduled_pushes


async def was_pushed(conn: AsyncConnection, kind: str, period_key: str) -> bool:
    done = await conn.execute(
        select(scheduled_pushes.c.id).where(
            (scheduled_pushes.c.kind == kind) & (scheduled_pushes.c.period_key == period_key)
        )
    )
    return done.first() is not None


async def record_push(
    conn: AsyncConnection, *, kind: str, period_key: str, slot_at: datetime, now: datetime
) -> None:
    """Raises `sqlalchemy.exc.IntegrityError` when that push was recorded already."""
    await conn.execute(
        insert(scheduled_pushes).values(
            kind=kind, period_key=period_key, slot_at=slot_at, created_at=now
        )
    )
