"""Queries behind the staff desk: roles, units, compare-and-set updates, queues, prompts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.lifecycle import Status
from bot.storage import search
from bot.storage.rows import CardMessageRow, CaseRow, PromptRow, StaffMember, UnitRow, every, one
from bot.storage.tables import case_messages, cases, staff_prompts, units, users


async def role_of(conn: AsyncConnection, user_id: int) -> str | None:
    return (
        await conn.execute(select(users.c.role).where(users.c.id == user_id))
    ).scalar_one_or_none()


async def set_role(conn: AsyncConnection, user_id: int, role: str | None, now: datetime) -> None:
    """Give (or take away) a role; creates the user row if the bot has not met them yet."""
    if await ensure_user(conn, user_id, now, role=role):
        return
    await conn.execute(update(users).where(users.c.id == user_id).values(role=role))


async def ensure_user(
    conn: AsyncConnection, user_id: int, now: datetime, *, role: str | None = None
) -> bool:
    """Create the user row (cases refer to it) if the bot has not met them yet; True if it did.
    An admin named only in the settings may hold a case before ever writing to the bot."""
    exists = (await conn.execute(select(users.c.id).where(users.c.id == user_id))).first()
    if exists:
        return False
    await conn.execute(
        insert(users).values(
            id=user_id,
            first_name="",
            role=role,
            blocked_bot=False,
            banned=False,
            created_at=now,
            updated_at=now,
        )
    )
    return True


async def staff_members(conn: AsyncConnection) -> list[StaffMember]:
    rows = await conn.execute(
        select(users.c.id, users.c.first_name, users.c.username, users.c.role)
        .where(users.c.role.is_not(None))
        .order_by(users.c.role, users.c.id)
    )
    return every(rows.mappings(), StaffMember)


async def names(conn: AsyncConnection, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await conn.execute(select(users.c.id, users.c.first_name).where(users.c.id.in_(ids)))
    return {r.id: r.first_name for r in rows}


async def all_units(conn: AsyncConnection) -> list[UnitRow]:
    rows = await conn.execute(select(units).where(units.c.active.is_(True)).order_by(units.c.id))
    return every(rows.mappings(), UnitRow)


async def unit(conn: AsyncConnection, unit_id: int) -> UnitRow | None:
    row = (await conn.execute(select(units).where(units.c.id == unit_id))).mappings().first()
    return one(row, UnitRow)


async def unit_by_code(conn: AsyncConnection, code: str) -> UnitRow | None:
    row = (await conn.execute(select(units).where(units.c.code == code))).mappings().first()
    return one(row, UnitRow)


async def unit_by_chat(conn: AsyncConnection, chat_id: int) -> UnitRow | None:
    row = (await conn.execute(select(units).where(units.c.chat_id == chat_id))).mappings().first()
    return one(row, UnitRow)


async def set_unit_chat(
    conn: AsyncConnection, unit_id: int, chat_id: int | None, thread_id: int | None
) -> None:
    await conn.execute(
        update(units).where(units.c.id == unit_id).values(chat_id=chat_id, thread_id=thread_id)
    )


async def compare_and_set(
    conn: AsyncConnection,
    case_id: int,
    *,
    status: str,
    holder_id: int | bool | None,
    values: dict[str, Any],
    also: dict[str, Any] | None = None,
) -> bool:
    """Update the case only if it is still in `status` (and held by `holder_id`, unless that is
    False, and still has the column values in `also`). The winner of a race is whoever's UPDATE
    matched; the others change nothing."""
    cond = [cases.c.id == case_id, cases.c.status == status]
    cond += [cases.c[column] == value for column, value in (also or {}).items()]
    if holder_id is None:
        cond.append(cases.c.holder_id.is_(None))
    elif holder_id is not False:
        cond.append(cases.c.holder_id == holder_id)
    result = await conn.execute(update(cases).where(and_(*cond)).values(**values))
    return bool(result.rowcount == 1)


_UNCLAIMED = and_(
    cases.c.status.in_((Status.NEW.value, Status.REOPENED.value)), cases.c.holder_id.is_(None)
)
_HELD_STATES = (Status.CLAIMED, Status.REFERRED, Status.AWAITING_CITIZEN, Status.REOPENED)


async def queue(conn: AsyncConnection, limit: int = 20) -> tuple[list[CaseRow], int]:
    """The oldest unclaimed cases (urgent first), and how many are unclaimed in all."""
    rows = await conn.execute(
        select(cases)
        .where(_UNCLAIMED)
        .order_by(cases.c.urgent.desc(), cases.c.created_at, cases.c.id)
        .limit(limit)
    )
    total = await conn.execute(select(func.count()).select_from(cases).where(_UNCLAIMED))
    return every(rows.mappings(), CaseRow), int(total.scalar_one())


async def held_by(conn: AsyncConnection, user_id: int, limit: int = 30) -> list[CaseRow]:
    rows = await conn.execute(
        select(cases)
        .where(
            and_(
                cases.c.holder_id == user_id,
                cases.c.status.in_([s.value for s in _HELD_STATES]),
            )
        )
        .order_by(cases.c.created_at)
        .limit(limit)
    )
    return every(rows.mappings(), CaseRow)


async def find(
    conn: AsyncConnection,
    *,
    search_key: str | None,
    code: str | None,
    phone: str | None,
    limit: int = 20,
) -> list[CaseRow]:
    query = find_query(
        conn.dialect.name, search_key=search_key, code=code, phone=phone, limit=limit
    )
    if query is None:
        return []
    return every((await conn.execute(query)).mappings(), CaseRow)


def find_query(
    dialect: str, *, search_key: str | None, code: str | None, phone: str | None, limit: int
) -> Select[Any] | None:
    """Newest first (ids follow filing): cases whose business or description contains
    `search_key` (through the trigram index, `bot.storage.search`), or with this code, or this
    contact number. In id order a word in most cases is answered from the newest end of the
    index, not by sorting every match."""
    conds = []
    if search_key:
        conds.append(search.matches(dialect, search_key, limit))
    if code:
        conds.append(cases.c.code == code)
    if phone:
        conds.append(cases.c.contact_phone == phone)
    if not conds:
        return None
    return select(cases).where(or_(*conds)).order_by(cases.c.id.desc()).limit(limit)


async def card_messages(conn: AsyncConnection, case_id: int) -> list[CardMessageRow]:
    rows = await conn.execute(select(case_messages).where(case_messages.c.case_id == case_id))
    return every(rows.mappings(), CardMessageRow)


async def set_card_hash(conn: AsyncConnection, row_id: int, content_hash: str) -> None:
    await conn.execute(
        update(case_messages).where(case_messages.c.id == row_id).values(content_hash=content_hash)
    )


async def add_prompt(conn: AsyncConnection, values: dict[str, Any]) -> int:
    result = await conn.execute(insert(staff_prompts).values(**values))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def take_prompt(conn: AsyncConnection, chat_id: int, message_id: int) -> PromptRow | None:
    row = (
        (
            await conn.execute(
                select(staff_prompts).where(
                    and_(
                        staff_prompts.c.chat_id == chat_id, staff_prompts.c.message_id == message_id
                    )
                )
            )
        )
        .mappings()
        .first()
    )
    return one(row, PromptRow)


async def drop_prompt(conn: AsyncConnection, prompt: PromptRow) -> list[int]:
    """Drop the prompt and its twins: one question is asked in the group and in the asker's
    private chat (and a button pressed twice asks twice); one answer settles them all. The
    ids dropped."""
    twins = and_(
        staff_prompts.c.user_id == prompt["user_id"],
        staff_prompts.c.case_id == prompt["case_id"],
        staff_prompts.c.action == prompt["action"],
        staff_prompts.c.extra.is_(None)
        if prompt["extra"] is None
        else staff_prompts.c.extra == prompt["extra"],
    )
    found = list((await conn.execute(select(staff_prompts.c.id).where(twins))).scalars())
    if found:
        await conn.execute(delete(staff_prompts).where(staff_prompts.c.id.in_(found)))
    return [int(i) for i in found]


async def prompt_by_id(conn: AsyncConnection, prompt_id: int) -> PromptRow | None:
    row = (
        (await conn.execute(select(staff_prompts).where(staff_prompts.c.id == prompt_id)))
        .mappings()
        .first()
    )
    return one(row, PromptRow)


async def open_prompts(
    conn: AsyncConnection, user_id: int, chat_id: int, since: datetime
) -> list[PromptRow]:
    """The prompts asked of this user in this chat since `since`, oldest first."""
    rows = await conn.execute(
        _OPEN_PROMPTS, {"user_id": user_id, "chat_id": chat_id, "since": since}
    )
    return every(rows.mappings(), PromptRow)


_OPEN_PROMPTS = (  # built once: read for every text a citizen or desk member sends
    select(staff_prompts)
    .where(
        staff_prompts.c.user_id == bindparam("user_id"),
        staff_prompts.c.chat_id == bindparam("chat_id"),
        staff_prompts.c.created_at >= bindparam("since"),
    )
    .order_by(staff_prompts.c.id)
)


async def resolved_before(
    conn: AsyncConnection, cutoff: datetime, limit: int = 500
) -> list[CaseRow]:
    rows = await conn.execute(
        select(cases)
        .where(and_(cases.c.status == Status.RESOLVED.value, cases.c.resolved_at < cutoff))
        .order_by(cases.c.resolved_at)
        .limit(limit)
    )
    return every(rows.mappings(), CaseRow)


async def mark_unreachable(conn: AsyncConnection, user_id: int) -> None:
    """The citizen blocked the bot (or never started it): staff should know."""
    await conn.execute(update(users).where(users.c.id == user_id).values(blocked_bot=True))


async def is_unreachable(conn: AsyncConnection, user_id: int) -> bool:
    value = (
        await conn.execute(select(users.c.blocked_bot).where(users.c.id == user_id))
    ).scalar_one_or_none()
    return bool(value)
