"""The outbox table: queue in the caller's transaction, claim and settle from the worker.

Rows are delivered in lanes: one lane per chat for what is posted there, and one per chat for
the card refreshes addressed to it (edits, which Telegram does not count against the chat's
limit). Within a lane rows go strictly in id order; the lanes do not wait for one another. The
head of a lane is its oldest pending row, and only a due head may be taken: a row waiting for
its retry holds back the rest of its lane, never another lane. Taking heads rather than rows is
what lets several processes share the outbox later: a process that locks a head it takes (`FOR
UPDATE SKIP LOCKED` with a lease) owns that lane until it settles the row, since the lane's next
row stays held back while its head is pending, so one chat's messages keep their order whichever
process sends them.

Lanes to private chats (citizens) and to groups are taken separately; which a chat is comes
from `chat_kinds` (what the messenger said the chat is), never from the sign of its id. A chat
of unknown kind counts as a group.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.chat_kinds import PRIVATE
from bot.domain.purposes import Purpose
from bot.storage.rows import OutboxRow, every, one
from bot.storage.tables import chat_kinds, outbox

REFRESH = Purpose.CARD_REFRESH.value

Lane = tuple[int, bool]  # (chat id, card refreshes)


def lane_of(row: OutboxRow) -> Lane:
    return (int(row["chat_id"]), row["purpose"] == REFRESH)


async def enqueue(
    conn: AsyncConnection,
    *,
    chat_id: int,
    method: str,
    payload: dict[str, Any],
    purpose: Purpose,
    now: datetime,
    case_id: int | None = None,
) -> int:
    """Queue one Bot API call; it is sent only if the surrounding transaction commits."""
    result = await conn.execute(
        insert(outbox).values(
            chat_id=chat_id,
            method=method,
            payload=payload,
            purpose=str(purpose),  # the value, also for a plain string
            case_id=case_id,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    # Ignored below: SQLAlchemy types inserted_primary_key Optional; a one-row INSERT sets it.
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def due(conn: AsyncConnection, now: datetime, limit: int = 50) -> list[OutboxRow]:
    """Pending rows whose time has come, oldest first, whatever their lane."""
    rows = await conn.execute(
        select(outbox)
        .where(and_(outbox.c.status == "pending", outbox.c.next_attempt_at <= now))
        .order_by(outbox.c.id)
        .limit(limit)
    )
    return every(rows.mappings(), OutboxRow)


async def due_heads(
    conn: AsyncConnection, now: datetime, *, private: bool, limit: int
) -> list[OutboxRow]:
    """The due head of each lane to private chats (citizens), or to groups (and chats of
    unknown kind); oldest first."""
    earlier = outbox.alias("earlier")
    private_chats = select(chat_kinds.c.chat_id).where(chat_kinds.c.kind == PRIVATE)
    held_back = exists().where(
        earlier.c.chat_id == outbox.c.chat_id,
        earlier.c.status == "pending",
        earlier.c.id < outbox.c.id,
        (earlier.c.purpose == REFRESH) == (outbox.c.purpose == REFRESH),
    )
    rows = await conn.execute(
        select(outbox)
        .where(
            outbox.c.status == "pending",
            outbox.c.next_attempt_at <= now,
            (
                outbox.c.chat_id.in_(private_chats)
                if private
                else outbox.c.chat_id.not_in(private_chats)
            ),
            ~held_back,
        )
        .order_by(outbox.c.id)
        .limit(limit)
    )
    return every(rows.mappings(), OutboxRow)


async def lane_head(conn: AsyncConnection, lane: Lane, now: datetime) -> OutboxRow | None:
    """The lane's oldest pending row if it is due; None if the lane is empty or waiting."""
    chat_id, refresh = lane
    kind = outbox.c.purpose == REFRESH if refresh else outbox.c.purpose != REFRESH
    row = (
        (
            await conn.execute(
                select(outbox)
                .where(outbox.c.chat_id == chat_id, outbox.c.status == "pending", kind)
                .order_by(outbox.c.id)
                .limit(1)
            )
        )
        .mappings()
        .first()
    )
    if row is None or row["next_attempt_at"] > now:
        return None
    return one(row, OutboxRow)


async def mark_sent(
    conn: AsyncConnection, row_id: int, now: datetime, message_id: int | None
) -> None:
    values: dict[str, Any] = {"status": "sent", "sent_at": now, "attempts": outbox.c.attempts + 1}
    if message_id is not None:  # else keep the one a first part recorded
        values["result_message_id"] = message_id
    await conn.execute(update(outbox).where(outbox.c.id == row_id).values(**values))


async def mark_part_sent(
    conn: AsyncConnection, row_id: int, parts_sent: int, message_id: int | None
) -> None:
    """One part of a message sent as several went out: a retry resumes after it."""
    values: dict[str, Any] = {"parts_sent": parts_sent}
    if message_id is not None:
        values["result_message_id"] = message_id
    await conn.execute(update(outbox).where(outbox.c.id == row_id).values(**values))


async def last_refresh(conn: AsyncConnection, case_id: int) -> int | None:
    """The newest pending card refresh of a case (its id)."""
    newest = (
        await conn.execute(
            select(func.max(outbox.c.id)).where(
                outbox.c.case_id == case_id,
                outbox.c.purpose == REFRESH,
                outbox.c.status == "pending",
            )
        )
    ).scalar()
    return int(newest) if newest is not None else None


async def settle_refreshes(conn: AsyncConnection, case_id: int, up_to: int, now: datetime) -> None:
    """Refreshes of a case queued before it was drawn are done by that drawing."""
    await conn.execute(
        update(outbox)
        .where(
            and_(
                outbox.c.case_id == case_id,
                outbox.c.purpose == REFRESH,
                outbox.c.status == "pending",
                outbox.c.id <= up_to,
            )
        )
        .values(status="sent", sent_at=now)
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
