"""Reading cases for the Open311 API: the web desk's own cases, filtered as GeoReport v2 asks."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.channels import Channel
from bot.storage.rows import CaseRow, EventRow, every
from bot.storage.tables import case_events, cases


async def set_media_url(conn: AsyncConnection, case_id: int, url: str) -> None:
    await conn.execute(update(cases).where(cases.c.id == case_id).values(media_url=url))


async def set_filed_with(conn: AsyncConnection, case_id: int, key_name: str) -> None:
    """The key a web case was filed with: what it may read back."""
    await conn.execute(update(cases).where(cases.c.id == case_id).values(api_key=key_name))


async def web_cases(
    conn: AsyncConnection,
    *,
    filed_with: str | None = None,
    codes: Collection[str] | None = None,
    violation: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    statuses: Collection[str] | None = None,
    limit: int,
) -> list[CaseRow]:
    """Cases that came in over the API (`filed_with`: with that key), newest first. `codes`
    given: those, and no other filter (the spec: a list of ids overrides all other arguments)."""
    query = select(cases).where(cases.c.channel == Channel.WEB.value)
    if filed_with is not None:
        query = query.where(cases.c.api_key == filed_with)
    if codes is not None:
        query = query.where(cases.c.code.in_(list(codes)))
    else:
        if violation is not None:
            query = query.where(cases.c.violation == violation)
        if since is not None:
            query = query.where(cases.c.created_at >= since)
        if until is not None:
            query = query.where(cases.c.created_at <= until)
        if statuses is not None:
            query = query.where(cases.c.status.in_(list(statuses)))
    query = query.order_by(cases.c.created_at.desc(), cases.c.id.desc()).limit(limit)
    return every((await conn.execute(query)).mappings(), CaseRow)


async def last_public_events(
    conn: AsyncConnection, case_ids: Collection[int], actions: Collection[str]
) -> dict[int, EventRow]:
    """For each case, its latest public event among `actions` (the outcome told the citizen)."""
    if not case_ids:
        return {}
    query = (
        select(case_events)
        .where(
            case_events.c.case_id.in_(list(case_ids)),
            case_events.c.action.in_(list(actions)),
            case_events.c.public.is_(True),
        )
        .order_by(case_events.c.id)
    )
    out: dict[int, EventRow] = {}
    for row in every((await conn.execute(query)).mappings(), EventRow):
        out[row["case_id"]] = row
    return out
