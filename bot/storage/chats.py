"""Chats: where one lives now (groups upgraded to supergroups change their id), and what kind
of chat an id is."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.tables import chat_kinds, chat_moves, units

MAX_HOPS = 5


async def current_id(conn: AsyncConnection, chat_id: int) -> int:
    """Follow recorded moves (a chain, in theory) to the chat's present id."""
    for _ in range(MAX_HOPS):
        moved = (
            await conn.execute(
                select(chat_moves.c.new_chat_id).where(chat_moves.c.old_chat_id == chat_id)
            )
        ).scalar_one_or_none()
        if moved is None:
            return chat_id
        chat_id = int(moved)
    return chat_id


async def record_move(conn: AsyncConnection, old: int, new: int, now: datetime) -> None:
    """Remember the move, and move units whose chat it was."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(chat_moves).values(old_chat_id=old, new_chat_id=new, at=now)
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[chat_moves.c.old_chat_id], set_={"new_chat_id": new, "at": now}
        )
    )
    await conn.execute(update(units).where(units.c.chat_id == old).values(chat_id=new))


async def record_kind(conn: AsyncConnection, chat_id: int, kind: str, now: datetime) -> None:
    """Remember what kind of chat `chat_id` is (the messenger's word: private, group…)."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(chat_kinds).values(chat_id=chat_id, kind=kind, seen_at=now)
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[chat_kinds.c.chat_id], set_={"kind": kind, "seen_at": now}
        )
    )


async def kind_of(conn: AsyncConnection, chat_id: int) -> str | None:
    """The kind recorded for the chat, or None when the bot has not learnt it yet."""
    found = (
        await conn.execute(select(chat_kinds.c.kind).where(chat_kinds.c.chat_id == chat_id))
    ).scalar_one_or_none()
    return str(found) if found is not None else None
