"""Reading cases for the Open311 API: the web desk's own cases, filtered as GeoReport v2 asks."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ColumnElement, exists, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.channels import Channel
from bot.domain.lifecycle import Action, Status
from bot.storage.rows import CaseRow, EventRow, every
from bot.storage.tables import case_events, cases


async def set_media_url(conn: AsyncConnection, case_id: int, url: str) -> None:
    await conn.execute(update(cases).where(cases.c.id == case_id).values(media_url=url))


# The system's internal note on a case filed over the API: which key filed it.
FILED_WITH = "open311:"


async def note_filed_with(conn: AsyncConnection, case_id: int, key_name: str, at: datetime) -> None:
    """Not public: the desk sees it in the case's timeline, the citizen never. Written as the
    case is filed, so new (a request over the API is always filed on its own)."""
    await conn.execute(
        insert(case_events).values(
            case_id=case_id,
            action=Action.NOTE.value,
            at=at,
            actor_id=None,
            from_status=Status.NEW.value,
            to_status=Status.NEW.value,
            note=FILED_WITH + key_name,
            public=False,
        )
    )


def _filed_with(key_name: str) -> ColumnElement[bool]:
    """The case was filed with this key: the system's note (no one else writes a note with
    no actor, and a key's name is unique for good, revoked or not)."""
    return exists().where(
        case_events.c.case_id == cases.c.id,
        case_events.c.action == Action.NOTE.value,
        case_events.c.actor_id.is_(None),
        case_events.c.public.is_(False),
        case_events.c.note == FILED_WITH + key_name,
    )


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
        query = query.where(_filed_with(filed_with))
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
