"""API keys of the systems that call the Open311 API, and the audit rows of their requests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.rows import ApiKeyRow, ApiRequestRow, every, one
from bot.storage.tables import api_keys, api_requests


class NameTaken(Exception):
    """A key of that name exists already (revoked or not: names stay unique in the audit)."""


async def create(conn: AsyncConnection, name: str, key_hash: str, now: datetime) -> None:
    try:
        async with conn.begin_nested():
            await conn.execute(
                insert(api_keys).values(name=name, key_hash=key_hash, created_at=now)
            )
    except IntegrityError as exc:
        raise NameTaken(name) from exc


async def revoke(conn: AsyncConnection, name: str, now: datetime) -> bool:
    """False when there is no live key of that name."""
    result = await conn.execute(
        update(api_keys)
        .where(api_keys.c.name == name, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return bool(result.rowcount)


async def by_hash(conn: AsyncConnection, key_hash: str) -> ApiKeyRow | None:
    """The live key with this hash."""
    query = select(api_keys).where(api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None))
    return one((await conn.execute(query)).mappings().first(), ApiKeyRow)


async def all_keys(conn: AsyncConnection) -> list[ApiKeyRow]:
    query = select(api_keys).order_by(api_keys.c.name)
    return every((await conn.execute(query)).mappings(), ApiKeyRow)


async def audit(
    conn: AsyncConnection,
    *,
    key_name: str | None,
    method: str,
    path: str,
    status: int,
    at: datetime,
) -> None:
    await conn.execute(
        insert(api_requests).values(
            key_name=key_name, method=method[:8], path=path[:200], status=status, at=at
        )
    )


async def audited(conn: AsyncConnection) -> list[ApiRequestRow]:
    query = select(api_requests).order_by(api_requests.c.id)
    return every((await conn.execute(query)).mappings(), ApiRequestRow)


async def forget_audit_before(conn: AsyncConnection, before: datetime) -> int:
    result = await conn.execute(delete(api_requests).where(api_requests.c.at < before))
    return int(result.rowcount or 0)
