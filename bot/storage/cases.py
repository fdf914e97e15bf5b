"""Cases, their audit trail and their evidence."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.channels import Channel
from bot.domain.lifecycle import Status
from bot.storage.rows import AttachmentRow, CaseRow, EventRow, every, one
from bot.storage.tables import attachments, case_events, case_messages, cases, ratings


class CodeTaken(Exception):
    """The random tracking code already exists; draw another."""


async def insert_case(conn: AsyncConnection, values: dict[str, Any]) -> int:
    """Insert a case; raises `CodeTaken` (and leaves the transaction usable) on a code clash."""
    try:
        async with conn.begin_nested():
            result = await conn.execute(insert(cases).values(**values))
    except IntegrityError as exc:
        if "code" in str(exc.orig).lower():
            raise CodeTaken from exc
        raise
    # Ignored below: SQLAlchemy types inserted_primary_key Optional; a one-row INSERT sets it.
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def add_event(
    conn: AsyncConnection,
    case_id: int,
    *,
    action: str,
    at: datetime,
    actor_id: int | None,
    from_status: str | None,
    to_status: str | None,
    note: str | None = None,
    public: bool = True,
) -> None:
    await conn.execute(
        insert(case_events).values(
            case_id=case_id,
            action=action,
            at=at,
            actor_id=actor_id,
            from_status=from_status,
            to_status=to_status,
            note=note,
            public=public,
        )
    )


async def move_attachments(conn: AsyncConnection, draft_id: int, case_id: int) -> int:
    result = await conn.execute(
        update(attachments)
        .where(attachments.c.draft_id == draft_id)
        .values(case_id=case_id, draft_id=None)
    )
    return int(result.rowcount or 0)


async def count_since(conn: AsyncConnection, citizen_id: int, since: datetime) -> int:
    """Complaints the citizen filed in chat since `since` (a call or web case they linked later
    was not filed through this chat, and does not count against its daily limit)."""
    stmt = (
        select(func.count())
        .select_from(cases)
        .where(
            and_(
                cases.c.citizen_id == citizen_id,
                cases.c.created_at >= since,
                cases.c.channel == Channel.CHAT.value,
            )
        )
    )
    return int((await conn.execute(stmt)).scalar_one())


async def by_code(conn: AsyncConnection, code: str) -> CaseRow | None:
    row = (await conn.execute(select(cases).where(cases.c.code == code))).mappings().first()
    return one(row, CaseRow)


async def by_id(conn: AsyncConnection, case_id: int) -> CaseRow | None:
    row = (await conn.execute(select(cases).where(cases.c.id == case_id))).mappings().first()
    return one(row, CaseRow)


async def by_ids(conn: AsyncConnection, case_ids: list[int]) -> list[CaseRow]:
    """These cases (those that exist), in no particular order."""
    if not case_ids:
        return []
    rows = await conn.execute(select(cases).where(cases.c.id.in_(case_ids)))
    return every(rows.mappings(), CaseRow)


async def of_citizen(
    conn: AsyncConnection, citizen_id: int, *, offset: int, limit: int
) -> tuple[list[CaseRow], int]:
    """A page of the citizen's cases, newest first, and how many they have in all."""
    total = (
        await conn.execute(
            select(func.count()).select_from(cases).where(cases.c.citizen_id == citizen_id)
        )
    ).scalar_one()
    rows = await conn.execute(
        select(cases)
        .where(cases.c.citizen_id == citizen_id)
        .order_by(cases.c.created_at.desc(), cases.c.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return every(rows.mappings(), CaseRow), int(total)


_AWAITING_ANSWER = (  # built once: read for every message a citizen sends
    select(cases)
    .where(
        (cases.c.citizen_id == bindparam("citizen_id"))
        & (cases.c.status == Status.AWAITING_CITIZEN)
    )
    .order_by(cases.c.id)
)


async def awaiting_answer(conn: AsyncConnection, citizen_id: int) -> list[CaseRow]:
    """The citizen's cases with an officer's question open, oldest first."""
    rows = await conn.execute(_AWAITING_ANSWER, {"citizen_id": citizen_id})
    return every(rows.mappings(), CaseRow)


async def events(conn: AsyncConnection, case_id: int, *, public_only: bool) -> list[EventRow]:
    stmt = select(case_events).where(case_events.c.case_id == case_id)
    if public_only:
        stmt = stmt.where(case_events.c.public.is_(True))
    rows = await conn.execute(stmt.order_by(case_events.c.at, case_events.c.id))
    return every(rows.mappings(), EventRow)


async def case_attachments(conn: AsyncConnection, case_id: int) -> list[AttachmentRow]:
    rows = await conn.execute(
        select(attachments).where(attachments.c.case_id == case_id).order_by(attachments.c.id)
    )
    return every(rows.mappings(), AttachmentRow)


async def _card_row(
    conn: AsyncConnection, case_id: int, chat_id: int, purpose: str
) -> tuple[int, int] | None:
    """(row id, message id) of the case's card of `purpose` in `chat_id`, if posted there."""
    row = (
        await conn.execute(
            select(case_messages.c.id, case_messages.c.message_id).where(
                and_(
                    case_messages.c.case_id == case_id,
                    case_messages.c.chat_id == chat_id,
                    case_messages.c.purpose == purpose,
                )
            )
        )
    ).first()
    return (int(row[0]), int(row[1])) if row is not None else None


async def card_message_id(
    conn: AsyncConnection, case_id: int, chat_id: int, purpose: str
) -> int | None:
    """Where the case's card is in `chat_id`, to reply to it; None if never posted there."""
    found = await _card_row(conn, case_id, chat_id, purpose)
    return found[1] if found else None


async def remember_message(
    conn: AsyncConnection, case_id: int, chat_id: int, message_id: int, purpose: str
) -> None:
    """Record where a case's card lives so that later changes edit it in place."""
    found = await _card_row(conn, case_id, chat_id, purpose)
    if found is None:
        await conn.execute(
            insert(case_messages).values(
                case_id=case_id, chat_id=chat_id, message_id=message_id, purpose=purpose
            )
        )
    else:
        await conn.execute(
            update(case_messages)
            .where(case_messages.c.id == found[0])
            .values(message_id=message_id)
        )


async def remember_first_message(
    conn: AsyncConnection, case_id: int, chat_id: int, message_id: int, purpose: str
) -> bool:
    """Record this card unless the case has one of `purpose` in the chat already (posted
    meanwhile by someone else); False then. One statement, so that two at once cannot both
    record theirs (the unique key decides)."""
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = dialect_insert(case_messages).values(
        case_id=case_id, chat_id=chat_id, message_id=message_id, purpose=purpose
    )
    result = await conn.execute(
        stmt.on_conflict_do_nothing(
            index_elements=[
                case_messages.c.case_id,
                case_messages.c.chat_id,
                case_messages.c.purpose,
            ]
        )
    )
    return bool(result.rowcount)


async def save_rating(
    conn: AsyncConnection, case_id: int, citizen_id: int, score: int, now: datetime
) -> None:
    existing = (
        await conn.execute(select(ratings.c.id).where(ratings.c.case_id == case_id))
    ).scalar_one_or_none()
    if existing is None:
        await conn.execute(
            insert(ratings).values(
                case_id=case_id, citizen_id=citizen_id, score=score, created_at=now
            )
        )
    else:
        await conn.execute(update(ratings).where(ratings.c.id == existing).values(score=score))


async def save_rating_comment(
    conn: AsyncConnection, case_id: int, citizen_id: int, comment: str
) -> bool:
    result = await conn.execute(
        update(ratings)
        .where(and_(ratings.c.case_id == case_id, ratings.c.citizen_id == citizen_id))
        .values(comment=comment or None)
    )
    return bool(result.rowcount)


async def move_message(conn: AsyncConnection, row_id: int, chat_id: int, message_id: int) -> None:
    """The card now lives in another chat (its group became a supergroup)."""
    await conn.execute(
        update(case_messages)
        .where(case_messages.c.id == row_id)
        .values(chat_id=chat_id, message_id=message_id)
    )


async def open_about(
    conn: AsyncConnection,
    *,
    business_key: str,
    near: tuple[float, float, float, float] | None,
    statuses: Collection[str],
    limit: int = 50,
) -> list[CaseRow]:
    """Open cases (in `statuses`, not merged) with this business key, or whose location is in
    the `near` box (lat_min, lat_max, lon_min, lon_max), oldest first."""
    about = cases.c.business_key == business_key
    if near is not None:
        lat_min, lat_max, lon_min, lon_max = near
        about = or_(
            about,
            and_(
                cases.c.latitude.between(lat_min, lat_max),
                cases.c.longitude.between(lon_min, lon_max),
            ),
        )
    rows = await conn.execute(
        select(cases)
        .where(about, cases.c.status.in_(list(statuses)), cases.c.merged_into.is_(None))
        .order_by(cases.c.created_at, cases.c.id)
        .limit(limit)
    )
    return every(rows.mappings(), CaseRow)


async def supporting(conn: AsyncConnection, case_id: int, limit: int = 20) -> list[CaseRow]:
    """The reports merged into this case (joined by their citizens, or merged by staff)."""
    rows = await conn.execute(
        select(cases).where(cases.c.merged_into == case_id).order_by(cases.c.id).limit(limit)
    )
    return every(rows.mappings(), CaseRow)


async def count_supporting(conn: AsyncConnection, case_id: int) -> int:
    stmt = select(func.count()).select_from(cases).where(cases.c.merged_into == case_id)
    return int((await conn.execute(stmt)).scalar_one())


async def link_citizen(conn: AsyncConnection, case_id: int, citizen_id: int, now: datetime) -> bool:
    """Give a case without a citizen (a call, the web desk) to the citizen who proved its
    number; False when someone else linked it first."""
    result = await conn.execute(
        update(cases)
        .where((cases.c.id == case_id) & cases.c.citizen_id.is_(None))
        .values(citizen_id=citizen_id, updated_at=now)
    )
    return bool(result.rowcount == 1)
