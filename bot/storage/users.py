"""Users the bot has met: upserted on every update, so names stay fresh."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.rows import UserRow, one
from bot.storage.tables import users


async def touch(
    conn: AsyncConnection,
    user_id: int,
    *,
    first_name: str,
    username: str | None,
    language_code: str | None,
    now: datetime,
) -> None:
    """Insert the user or refresh their name; a message from them means they can be reached."""
    values: dict[str, Any] = {
        "id": user_id,
        **_details(first_name, username, language_code),
        "blocked_bot": False,
        "created_at": now,
        "updated_at": now,
    }
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(users).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[users.c.id],
        set_={
            k: stmt.excluded[k]
            for k in ("first_name", "username", "language_code", "blocked_bot", "updated_at")
        },
    )
    await conn.execute(stmt)


def _details(first_name: str, username: str | None, language_code: str | None) -> dict[str, Any]:
    """What Telegram says about a user, as stored (cut to the columns' sizes)."""
    return {
        "first_name": first_name[:128],
        "username": (username or None) and username[:64],
        "language_code": (language_code or None) and language_code[:16],
    }


def is_current(
    row: UserRow, *, first_name: str, username: str | None, language_code: str | None
) -> bool:
    """Whether `touch` would change nothing in this row but its time."""
    stored = {k: row[k] for k in ("first_name", "username", "language_code")}
    return not row["blocked_bot"] and stored == _details(first_name, username, language_code)


# Built once: read on every update, and a statement built per call costs more than SQLite's work.
_GET = select(users).where(users.c.id == bindparam("user_id"))


async def get(conn: AsyncConnection, user_id: int) -> UserRow | None:
    row = (await conn.execute(_GET, {"user_id": user_id})).mappings().first()
    return one(row, UserRow)


async def ids_with_role(conn: AsyncConnection, role: str) -> list[int]:
    """Every user holding `role`, in no particular order."""
    return list((await conn.execute(select(users.c.id).where(users.c.role == role))).scalars())


async def set_pending_input(
    conn: AsyncConnection, user_id: int, value: str | None, at: datetime | None = None
) -> None:
    """What the user's next text means now (`bot.domain.pending`), chosen at `at`."""
    await conn.execute(
        update(users).where(users.c.id == user_id).values(pending_input=value, pending_at=at)
    )


async def clear_pending_input(conn: AsyncConnection, user_id: int, value: str) -> None:
    """Clear what the user's next text means, only if it still means `value`."""
    await conn.execute(
        update(users)
        .where((users.c.id == user_id) & (users.c.pending_input == value))
        .values(pending_input=None)
    )


async def set_ban(conn: AsyncConnection, user_id: int, reason: str | None) -> bool:
    result = await conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(banned=reason is not None, ban_reason=reason)
    )
    return bool(result.rowcount)
