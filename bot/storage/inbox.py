"""The inbox table: updates committed on arrival, taken per lane (sender) in update_id order.

A lane's head is its oldest unhandled row, and only a head may be taken: the lane's next row
stays held back while the head is unhandled, so whoever holds the head's lease owns the lane,
and one sender's updates run one at a time, in order, whichever process takes them. On
PostgreSQL the heads are claimed with `FOR UPDATE SKIP LOCKED`, so concurrent claimers never
wait for one another nor take the same head; SQLite has no row locks, and its `BEGIN
IMMEDIATE` transactions (`bot.storage.db`) run the same claims one at a time instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import Select, delete, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.rows import InboxRow, every, one
from bot.storage.tables import inbox


class NewRow(TypedDict):
    update_id: int
    lane_key: int
    payload: dict[str, Any]
    flood_warning: bool


async def add(conn: AsyncConnection, updates: Sequence[NewRow], now: datetime) -> None:
    """Store updates as they arrived; an update_id stored already is skipped (Telegram sends
    again what it was not told had arrived)."""
    if not updates:
        return
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(inbox).on_conflict_do_nothing(index_elements=["update_id"])
    await conn.execute(stmt, [{**row, "received_at": now} for row in updates])


def _free(now: datetime) -> Any:
    return or_(inbox.c.lease_until.is_(None), inbox.c.lease_until < now)


def _held_back() -> Any:
    """An earlier row of the same lane is not handled yet: this row is not its lane's head."""
    earlier = inbox.alias("earlier")
    return exists().where(
        earlier.c.lane_key == inbox.c.lane_key,
        earlier.c.handled_at.is_(None),
        earlier.c.update_id < inbox.c.update_id,
    )


def _locking(query: Select[Any], conn: AsyncConnection) -> Select[Any]:
    if conn.dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True, of=inbox)
    return query


async def _lease(
    conn: AsyncConnection, rows: list[InboxRow], holder: str, until: datetime
) -> list[InboxRow]:
    if rows:
        ids = [r["update_id"] for r in rows]
        await conn.execute(
            update(inbox)
            .where(inbox.c.update_id.in_(ids))
            .values(lease_holder=holder, lease_until=until)
        )
        for row in rows:
            row["lease_holder"], row["lease_until"] = holder, until
    return rows


async def claim_heads(
    conn: AsyncConnection, holder: str, now: datetime, until: datetime, limit: int
) -> list[InboxRow]:
    """Lease up to `limit` lane heads that nobody holds (or whose holder's lease ran out),
    oldest first: at most one row per lane."""
    query = (
        select(inbox)
        .where(inbox.c.handled_at.is_(None), _free(now), ~_held_back())
        .order_by(inbox.c.update_id)
        .limit(limit)
    )
    rows = every((await conn.execute(_locking(query, conn))).mappings(), InboxRow)
    return await _lease(conn, rows, holder, until)


async def free_heads(conn: AsyncConnection, now: datetime) -> bool:
    """Whether any row could be claimed now (a read: no lock taken)."""
    query = select(inbox.c.update_id).where(inbox.c.handled_at.is_(None), _free(now), ~_held_back())
    return (await conn.execute(query.limit(1))).first() is not None


async def claim_next(
    conn: AsyncConnection, lane_key: int, holder: str, now: datetime, until: datetime
) -> InboxRow | None:
    """Lease this lane's head if nobody holds it; None when the lane is empty or held.

    The head is found first and only then locked: `SKIP LOCKED` on the lane's rows would skip
    a head being claimed elsewhere and hand out the row behind it."""
    head = (
        select(inbox.c.update_id)
        .where(inbox.c.lane_key == lane_key, inbox.c.handled_at.is_(None))
        .order_by(inbox.c.update_id)
        .limit(1)
        .scalar_subquery()
    )
    query = select(inbox).where(inbox.c.update_id == head, _free(now))
    row = one((await conn.execute(_locking(query, conn))).mappings().first(), InboxRow)
    return (await _lease(conn, [row], holder, until))[0] if row is not None else None


async def mark_handled(conn: AsyncConnection, update_id: int, holder: str, now: datetime) -> bool:
    """Record the update handled; False when `holder` no longer holds it (its lease ran out
    and another worker took it over)."""
    result = await conn.execute(
        update(inbox)
        .where(
            inbox.c.update_id == update_id,
            inbox.c.lease_holder == holder,
            inbox.c.handled_at.is_(None),
        )
        .values(handled_at=now, lease_holder=None, lease_until=None)
    )
    return bool(result.rowcount)


async def renew(
    conn: AsyncConnection, update_ids: Sequence[int], holder: str, until: datetime
) -> int:
    """Extend the leases `holder` still has on these rows; returns how many it still had."""
    if not update_ids:
        return 0
    result = await conn.execute(
        update(inbox)
        .where(
            inbox.c.update_id.in_(list(update_ids)),
            inbox.c.lease_holder == holder,
            inbox.c.handled_at.is_(None),
        )
        .values(lease_until=until)
    )
    return result.rowcount or 0


async def release(conn: AsyncConnection, update_ids: Sequence[int], holder: str) -> None:
    """Give back leases (a graceful stop): another worker may take the rows at once."""
    if update_ids:
        await conn.execute(
            update(inbox)
            .where(
                inbox.c.update_id.in_(list(update_ids)),
                inbox.c.lease_holder == holder,
                inbox.c.handled_at.is_(None),
            )
            .values(lease_holder=None, lease_until=None)
        )


async def unhandled(conn: AsyncConnection, limit: int = 1000) -> list[InboxRow]:
    """Rows not handled yet, oldest first (for health figures and tests)."""
    rows = await conn.execute(
        select(inbox).where(inbox.c.handled_at.is_(None)).order_by(inbox.c.update_id).limit(limit)
    )
    return every(rows.mappings(), InboxRow)


async def backlog(conn: AsyncConnection) -> tuple[int, datetime | None]:
    """How many updates wait to be handled, and when the oldest of them arrived (None when
    none wait): what /healthz reports, whichever process received them."""
    query = select(func.count(), func.min(inbox.c.received_at)).where(inbox.c.handled_at.is_(None))
    waiting, oldest = (await conn.execute(query)).one()
    return int(waiting), oldest


async def forget_handled_before(conn: AsyncConnection, cutoff: datetime) -> None:
    await conn.execute(delete(inbox).where(inbox.c.handled_at < cutoff))
