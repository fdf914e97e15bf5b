"""Queries behind the manager's digest (`bot.services.reports`) and the case export
(`bot.services.export`).

Every query is bounded by the period on an indexed column (``cases.created_at``,
``case_events.at``, ``ratings.created_at``), by the open backlog (``cases.status``) or by ids
found that way, so its cost follows the size of the period, not of the history.
``case_events.at`` needs its own index for that (``ix_case_events_at``); the ``(case_id, at)``
index cannot serve a time-range query. Statuses and actions are passed in by the services, which
know what they mean; this module only knows columns.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from bot.storage.tables import case_events, cases, ratings, units, users

# Bound on ids per IN (...) list: well under SQLite's and asyncpg's parameter limits.
ID_BATCH = 500

#: One audit-trail event in a period: (case id, action, when, when its case was filed).
FlowEvent = tuple[int, str, datetime, datetime]


def _batches(ids: Iterable[int]) -> Iterable[list[int]]:
    ordered = sorted(ids)
    for i in range(0, len(ordered), ID_BATCH):
        yield ordered[i : i + ID_BATCH]


async def filed_cases(
    conn: AsyncConnection, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Cases filed in ``[start, end)`` (the SUBMIT event is written with the same
    `created_at`): violation, province, unit_id, business, business_key, created_at, id,
    channel."""
    stmt = select(
        cases.c.channel,
        cases.c.violation,
        cases.c.province,
        cases.c.unit_id,
        cases.c.business,
        cases.c.business_key,
        cases.c.created_at,
        cases.c.id,
    ).where(cases.c.created_at >= start, cases.c.created_at < end)
    return [dict(row) for row in (await conn.execute(stmt)).mappings()]


async def events_in(
    conn: AsyncConnection, start: datetime, end: datetime, actions: Collection[str]
) -> list[FlowEvent]:
    """The events of `actions` written in ``[start, end)``, with their case's filing time."""
    stmt = (
        select(case_events.c.case_id, case_events.c.action, case_events.c.at, cases.c.created_at)
        .join(cases, cases.c.id == case_events.c.case_id)
        .where(
            case_events.c.at >= start,
            case_events.c.at < end,
            case_events.c.action.in_(list(actions)),
        )
    )
    return [
        (case_id, action, at, created) for case_id, action, at, created in await conn.execute(stmt)
    ]


async def had_event_before(
    conn: AsyncConnection, ids: Iterable[int], action: str, before: datetime
) -> set[int]:
    """Which of `ids` have an event of `action` earlier than `before`."""
    found: set[int] = set()
    for batch in _batches(ids):
        stmt = (
            select(case_events.c.case_id)
            .where(
                case_events.c.case_id.in_(batch),
                case_events.c.action == action,
                case_events.c.at < before,
            )
            .distinct()
        )
        found.update((await conn.execute(stmt)).scalars())
    return found


async def cases_in_states(conn: AsyncConnection, statuses: Collection[str]) -> list[dict[str, Any]]:
    """Every case whose status is one of `statuses`: code, status, created_at, holder_id."""
    stmt = select(cases.c.code, cases.c.status, cases.c.created_at, cases.c.holder_id).where(
        cases.c.status.in_(list(statuses))
    )
    return [dict(row) for row in (await conn.execute(stmt)).mappings()]


async def first_names(conn: AsyncConnection, ids: Iterable[int]) -> dict[int, str]:
    """The Telegram first name of each of `ids` the bot has met ("" when it has none)."""
    names: dict[int, str] = {}
    for batch in _batches(ids):
        stmt = select(users.c.id, users.c.first_name).where(users.c.id.in_(batch))
        names.update({uid: name or "" for uid, name in await conn.execute(stmt)})
    return names


async def unit_names(conn: AsyncConnection) -> dict[int, str]:
    return {uid: name for uid, name in await conn.execute(select(units.c.id, units.c.name))}


async def ratings_in(conn: AsyncConnection, start: datetime, end: datetime) -> tuple[int, int]:
    """(How many ratings, their sum) given in ``[start, end)``."""
    stmt = select(func.count(), func.coalesce(func.sum(ratings.c.score), 0)).where(
        ratings.c.created_at >= start, ratings.c.created_at < end
    )
    count, total = (await conn.execute(stmt)).one()
    return int(count), int(total)


def _in_period(start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    return [cases.c.created_at >= start, cases.c.created_at < end]


async def count_filed(conn: AsyncConnection, start: datetime, end: datetime) -> int:
    """How many cases were filed in ``[start, end)``."""
    stmt = select(func.count()).select_from(cases).where(*_in_period(start, end))
    return int((await conn.execute(stmt)).scalar_one())


_EXPORT_COLUMNS = (
    cases.c.id,
    cases.c.code,
    cases.c.created_at,
    cases.c.status,
    cases.c.violation,
    cases.c.sector,
    cases.c.province,
    cases.c.city,
    cases.c.business,
    cases.c.address,
    cases.c.holder_id,
    cases.c.urgent,
    cases.c.outcome,
    cases.c.channel,
    cases.c.taken_by,
)


async def filed_chunk(
    conn: AsyncConnection,
    start: datetime,
    end: datetime,
    after: tuple[datetime, int] | None,
    size: int,
    include_phone: bool,
) -> list[Any]:
    """The next ``size`` cases filed in ``[start, end)`` after ``after`` (created_at, id), in
    order, each with its unit's name as ``unit_name``; the phone only when asked for (it is
    not even read otherwise)."""
    columns = [*_EXPORT_COLUMNS, units.c.name.label("unit_name")]
    if include_phone:
        columns += [cases.c.contact_phone, cases.c.caller_name]
    stmt = (
        select(*columns)
        .select_from(cases.outerjoin(units, units.c.id == cases.c.unit_id))
        .where(*_in_period(start, end))
        .order_by(cases.c.created_at, cases.c.id)
        .limit(size)
    )
    if after is not None:
        at, case_id = after
        stmt = stmt.where(
            or_(cases.c.created_at > at, and_(cases.c.created_at == at, cases.c.id > case_id))
        )
    return list((await conn.execute(stmt)).mappings())


async def spans_of(
    conn: AsyncConnection, case_ids: list[int], actions: Collection[str]
) -> list[tuple[int, str, datetime, datetime]]:
    """(case id, action, first, last time) of each action in `actions` on each of the cases,
    read through the (case_id, at) index: the cost follows the cases asked for, not history."""
    stmt = (
        select(
            case_events.c.case_id,
            case_events.c.action,
            func.min(case_events.c.at),
            func.max(case_events.c.at),
        )
        .where(case_events.c.case_id.in_(case_ids), case_events.c.action.in_(list(actions)))
        .group_by(case_events.c.case_id, case_events.c.action)
    )
    return [
        (case_id, action, first, last) for case_id, action, first, last in await conn.execute(stmt)
    ]
