"""Drafts and their attachments: one open draft per user and kind, saved after every answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.complaint import DraftKind
from bot.storage.rows import DraftRow, every, one
from bot.storage.tables import attachments, drafts

# The statements of every filing step are built once: building one costs more than running it.
_GET = select(drafts).where(
    (drafts.c.user_id == bindparam("user_id")) & (drafts.c.kind == bindparam("kind"))
)
_GET_LOCKED = _GET.with_for_update()  # PostgreSQL only: SQLite's write transaction locks all
_OF_USER = select(drafts).where(drafts.c.user_id == bindparam("user_id"))
_SAVE = (
    update(drafts)
    .where(drafts.c.id == bindparam("draft_id"))
    .values(
        step=bindparam("new_step"),
        data=bindparam("new_data"),
        edit_group=bindparam("new_edit_group"),
        updated_at=bindparam("now"),
    )
)
_ATTACHMENT_COUNT = (
    select(func.count())
    .select_from(attachments)
    .where(attachments.c.draft_id == bindparam("draft_id"))
)


async def get(
    conn: AsyncConnection,
    user_id: int,
    *,
    kind: str = DraftKind.COMPLAINT,
    lock: bool = False,
) -> DraftRow | None:
    stmt = _GET_LOCKED if lock and conn.dialect.name == "postgresql" else _GET
    row = (await conn.execute(stmt, {"user_id": user_id, "kind": kind})).mappings().first()
    return one(row, DraftRow)


async def of_user(conn: AsyncConnection, user_id: int) -> dict[DraftKind, DraftRow]:
    """The user's open drafts by kind (a complaint, a call being registered), in one read."""
    rows = every((await conn.execute(_OF_USER, {"user_id": user_id})).mappings(), DraftRow)
    return {DraftKind(r["kind"]): r for r in rows}


async def create(
    conn: AsyncConnection,
    user_id: int,
    step: str,
    data: dict[str, Any],
    now: datetime,
    *,
    kind: str = DraftKind.COMPLAINT,
) -> DraftRow:
    result = await conn.execute(
        insert(drafts).values(
            user_id=user_id,
            kind=kind,
            step=step,
            edit_group=None,
            data=data,
            created_at=now,
            updated_at=now,
        )
    )
    # Ignored below: SQLAlchemy types inserted_primary_key Optional; a one-row INSERT sets it.
    draft_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    return DraftRow(
        id=draft_id,
        user_id=user_id,
        kind=kind,
        step=step,
        edit_group=None,
        data=data,
        created_at=now,
        updated_at=now,
    )


async def save(
    conn: AsyncConnection,
    draft_id: int,
    *,
    step: str,
    data: dict[str, Any],
    edit_group: str | None,
    now: datetime,
) -> None:
    await conn.execute(
        _SAVE,
        {
            "draft_id": draft_id,
            "new_step": step,
            "new_data": data,
            "new_edit_group": edit_group,
            "now": now,
        },
    )


async def delete_draft(conn: AsyncConnection, draft_id: int) -> None:
    await conn.execute(delete(attachments).where(attachments.c.draft_id == draft_id))
    await conn.execute(delete(drafts).where(drafts.c.id == draft_id))


async def idle_since(conn: AsyncConnection, cutoff: datetime, limit: int = 200) -> list[DraftRow]:
    rows = await conn.execute(
        select(drafts).where(drafts.c.updated_at < cutoff).order_by(drafts.c.id).limit(limit)
    )
    return every(rows.mappings(), DraftRow)


async def attachment_count(conn: AsyncConnection, draft_id: int) -> int:
    return int((await conn.execute(_ATTACHMENT_COUNT, {"draft_id": draft_id})).scalar_one())


async def add_attachment(
    conn: AsyncConnection, draft_id: int, values: dict[str, Any], now: datetime
) -> bool:
    """Attach a file; False when this file is already on the draft (a redelivered update)."""
    try:
        async with conn.begin_nested():
            await conn.execute(
                insert(attachments).values(draft_id=draft_id, created_at=now, **values)
            )
    except IntegrityError:
        return False
    return True


async def clear_attachments(conn: AsyncConnection, draft_id: int) -> None:
    await conn.execute(delete(attachments).where(attachments.c.draft_id == draft_id))
