"""The outbox table: queue in the caller's transaction, claim and settle from the worker."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.tables import outbox


async def enqueue(
    conn: AsyncConnection,
    *,
    chat_id: int,
    method: str,
    payload: dict[str, Any],
    purpose: str,
    now: datetime,
    case_id: int | None = None,
) -> int:
    """Queue one Bot API call; it is sent only if the surrounding transaction commits."""
    result = await conn.execute(
        insert(outbox).values(
            chat_id=chat_id,
            method=method,
            payload=payload,
            purpose=purpose,
            case_id=case_id,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    # Ignored below: SQLAlchemy types inserted_primary_key Optional; a one-row INSERT sets it.
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def due(conn: AsyncConnection, now: datetime, limit: int = 50) -> list[dict[str, Any]]:
    """Pending rows whose time has come, oldest first."""
    rows = await conn.execute(
        select(outbox)
        .where(and_(outbox.c.status == "pending", outbox.c.next_attempt_at <= now))
        .order_by(outbox.c.id)
        .limit(limit)
    )
    return [dict(r) for r in rows.mappings()]


async def mark_sent(
    conn: AsyncConnection, row_id: int, now: datetime, message_id: int | None
) -> None:
    await conn.execute(
        update(outbox)
        .where(outbox.c.id == row_id)
        .values(
            status="sent", sent_at=now, result_message_id=message_id, attempts=outbox.c.attempts + 1
        )
    )


async def mark_retry(conn: AsyncConnection, row_id: int, error: str, next_at: datetime) -> None:
    await conn.execute(
        update(outbox)
        .where(outbox.c.id == row_id)
        .values(last_error=error[:1000], next_attempt_at=next_at, attempts=outbox.c.attempts + 1)
    )


async def mark_failed(conn: AsyncConnection, row_id: int, error: str) -> None:
    await conn.execute(
        update(outbox)
        .where(outbox.c.id == row_id)
        .values(status="failed", last_error=error[:1000], attempts=outbox.c.attempts + 1)
    )
